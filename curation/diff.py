"""What changed between two states of a case: the one place diffs are made.

Three readers use it: the review page (what a revision changes in its
published case, revision_changes), the edit conflict (what a curator's
unsaved form has that the saved case does not, conflict_changes) and the
history (between two saved versions, version_changes, on
django-simple-history's diff_against). Fields are compared as the text a
person reads (field_text), so a new Case field appears in every diff
without code of its own; rows are compared as one line each (ihc_text,
fusion_text) grouped by marker or fusion; figures by their file
(figures_diff): added, removed, or with a changed caption or licence.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch

from curation.actions.cases import CASE_FIELDS, ROW_KINDS
from curation.forms import VOCABULARIES, CaseForm
from curation.models import (
    Case,
    ClinicalEvent,
    Figure,
    FusionFinding,
    IHCResult,
    MolecularFinding,
    Treatment,
)
from curation.search.related import FUSIONS

_FIGURES = Prefetch(
    "figures", queryset=Figure.objects.select_related("marker").order_by("position", "pk")
)
_IHC = Prefetch(
    "ihc_results",
    queryset=IHCResult.objects.select_related("marker").order_by("position", "pk"),
)


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str
    field: str = ""  # the model field, where the change is one field's

    @property
    def kind(self) -> str:
        if not self.before:
            return "added"
        if not self.after:
            return "removed"
        return "changed"


def field_text(case: Case, name: str) -> str:
    field = Case._meta.get_field(name)
    if field.many_to_many:
        return "; ".join(sorted(str(v) for v in getattr(case, name).all()))
    value = getattr(case, name)
    if value is None or value == "":
        return ""
    if field.choices:
        return str(getattr(case, f"get_{name}_display")())
    if hasattr(value, "normalize"):
        return f"{value.normalize():f}"
    return str(value)


def ihc_text(row: IHCResult) -> str:
    parts = [row.summary]
    if row.clone:
        parts.append(f"clone {row.clone}")
    if row.pattern:
        parts.append(row.get_pattern_display().lower())
    if row.as_reported:
        parts.append(f"“{row.as_reported}”")
    return "; ".join(parts)


def fusion_text(row: FusionFinding) -> str:
    parts = [row.display]
    if row.method:
        parts.append(row.get_method_display())
    if row.assay:
        parts.append(f"assay “{row.assay}”")
    if row.five_prime_exon or row.three_prime_exon:
        parts.append(f"exons {row.five_prime_exon or '?'}/{row.three_prime_exon or '?'}")
    transcripts = " / ".join(
        t for t in (row.five_prime_transcript, row.three_prime_transcript) if t
    )
    if transcripts:
        parts.append(transcripts)
    if row.breakpoint:
        parts.append(f"breakpoint “{row.breakpoint}”")
    if row.as_reported:
        parts.append(f"as reported “{row.as_reported}”")
    return "; ".join(parts)


def figure_text(row: Figure) -> str:
    parts = [row.stain_display, row.magnification_display, f"“{row.caption}”"]
    if row.credit:
        parts.append(f"credit: {row.credit}")
    licence = row.licence_info.short + (
        f" ({row.permission_reference})" if row.permission_reference else ""
    )
    parts.append(f"licence: {licence}")
    return "; ".join(part for part in parts if part)


def figures_diff(before: list[Figure], after: list[Figure]) -> list[Change]:
    """Figures added, removed or changed (caption, stain, licence...): a figure is the
    same figure when its file is (the SHA-256 of its original)."""
    old = {f.sha256: f for f in before}
    new = {f.sha256: f for f in after}
    changes = []
    for key in [*old, *(k for k in new if k not in old)]:
        a = figure_text(old[key]) if key in old else ""
        b = figure_text(new[key]) if key in new else ""
        if a != b:
            changes.append(Change((new.get(key) or old[key]).title, a, b))
    return changes


def molecular_text(row: MolecularFinding) -> str:
    parts = [row.display]
    if row.kind == MolecularFinding.Kind.VARIANT:
        parts += [p for p in (row.hgvs_protein, row.hgvs_cdna, row.transcript) if p]
    if row.method:
        parts.append(row.get_method_display())
    if row.assay:
        parts.append(f"assay “{row.assay}”")
    if row.as_reported:
        parts.append(f"as reported “{row.as_reported}”")
    return "; ".join(parts)


def course_text(row: Treatment | ClinicalEvent) -> str:
    return row.display + (f"; as reported “{row.as_reported}”" if row.as_reported else "")


# How each kind of row is grouped and written in a diff: (title, key, text).
ROW_DIFF = {
    "ihc": ("IHC", lambda r: r.marker.name, ihc_text),
    "fusion": ("Fusions", lambda r: r.notation, fusion_text),
    "molecular": (
        "Molecular findings",
        lambda r: r.gene.symbol if r.gene_id else r.get_kind_display(),
        molecular_text,
    ),
    "treatment": ("Treatment", lambda r: r.get_kind_display(), course_text),
    "event": ("Clinical course", lambda r: r.get_kind_display(), course_text),
}


def _grouped(rows, key, text) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for row in rows:
        grouped.setdefault(key(row), []).append(text(row))
    return grouped


def rows_changes_between(case: Case, before, after) -> list[Change]:
    """Row changes of every kind between two moments (the rows' history, `as_of`)."""
    changes = []
    for kind, (title, key, text) in ROW_DIFF.items():
        model = ROW_KINDS[kind].model
        old = model.history.as_of(before).filter(case_id=case.pk)
        new = model.history.as_of(after).filter(case_id=case.pk)
        for change in rows_diff(_grouped(old, key, text), _grouped(new, key, text)):
            changes.append(Change(f"{title}: {change.label}", change.before, change.after))
    return changes


def rows_diff(before: dict[str, list[str]], after: dict[str, list[str]]) -> list[Change]:
    changes = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key, []), after.get(key, [])
        for i in range(max(len(old), len(new))):
            a = old[i] if i < len(old) else ""
            b = new[i] if i < len(new) else ""
            if a != b:
                changes.append(Change(key, a, b))
    return changes


DIFF_FIELDS = [
    f.name
    for f in Case._meta.get_fields()
    if f.name in CASE_FIELDS or f.name in ("other_citations", "differentials")
]


def revision_changes(revision: Case) -> dict:
    """What a revision changes in its published case: fields, IHC rows, fusion rows."""
    original = (
        Case.objects.select_related(
            "final_diagnosis", "initial_diagnosis", "reported_diagnosis", "topography"
        )
        .prefetch_related(
            _IHC,
            FUSIONS,
            "molecular_findings__gene",
            "treatments",
            "clinical_events",
            "differentials",
            "other_citations",
            _FIGURES,
        )
        .get(pk=revision.revision_of_id)
    )
    fields = []
    for name in DIFF_FIELDS:
        before, after = field_text(original, name), field_text(revision, name)
        if before != after:
            label = str(Case._meta.get_field(name).verbose_name)
            fields.append(Change(label[:1].upper() + label[1:], before, after))

    rows = {}
    for kind, (title, key, text) in ROW_DIFF.items():
        related = ROW_KINDS[kind].related_name
        rows[kind] = (
            title,
            rows_diff(
                _grouped(getattr(original, related).all(), key, text),
                _grouped(getattr(revision, related).all(), key, text),
            ),
        )
    figures = figures_diff(
        list(original.figures.all()),
        list(revision.figures.select_related("marker").order_by("position", "pk")),
    )
    return {
        "original": original,
        "fields": fields,
        "ihc": rows["ihc"][1],
        "fusions": rows["fusion"][1],
        "figures": figures,
        # Every kind of row, in the page's order: [(title, changes)].
        "rows": [rows[kind] for kind in ROW_DIFF],
        "empty": not (fields or figures or any(changes for _title, changes in rows.values())),
    }


def _shown(value) -> str:
    if value is None or value == "":
        return "—"
    return str(value)


def conflict_changes(exc, current: Case, mine: dict, version: int) -> dict:
    """The saved case (before) against the curator's unsaved form (after), where they differ."""
    theirs = CaseForm.initial_for(current)
    rows = []
    form_fields = CaseForm(
        case=current, vocabularies={n: c() for n, c in VOCABULARIES.items()}
    ).fields
    for name, value in mine["fields"].items():
        if _shown(value) != _shown(theirs.get(name)):
            label = form_fields[name].label or name.replace("_", " ").capitalize()
            rows.append(Change(label, _shown(theirs.get(name)), _shown(value), name))
    mine_ihc = "; ".join(f"{r['marker']}: {r['result']}" for r in mine["ihc_rows"])
    their_ihc = "; ".join(
        f"{r.marker}: {r.result}"
        for r in current.ihc_results.select_related("marker").order_by("position", "pk")
    )
    if mine_ihc != their_ihc:
        rows.append(Change("IHC results", their_ihc or "—", mine_ihc or "—"))
    mine_fusions = "; ".join(
        f"{r['five_prime_gene'] or '?'}::{r['three_prime_gene']}" for r in mine["fusion_rows"]
    )
    their_fusions = "; ".join(
        f.notation
        for f in current.fusions.select_related("five_prime_gene", "three_prime_gene").order_by(
            "position", "pk"
        )
    )
    if mine_fusions != their_fusions:
        rows.append(Change("Fusions", their_fusions or "—", mine_fusions or "—"))
    last = (
        current.history.order_by("-history_date", "-history_id")
        .select_related("history_user")
        .first()
    )
    return {
        "message": str(exc),
        "mine_version": version,
        "current_version": current.version,
        "by": last.history_user if last else None,
        "at": last.history_date if last else None,
        "rows": rows,
    }


def version_changes(case: Case, old_version: int, new_version: int) -> list[Change]:
    """Field changes between two saved versions of a case (django-simple-history)."""
    records = {
        r.version: r
        for r in case.history.filter(version__in=[old_version, new_version]).order_by(
            "history_date", "history_id"
        )
    }
    if old_version not in records or new_version not in records:
        missing = {old_version, new_version} - set(records)
        raise LookupError(f"{case} has no saved version {sorted(missing)}.")
    delta = records[new_version].diff_against(records[old_version])
    old, new = records[old_version].instance, records[new_version].instance
    changes = []
    for change in delta.changes:
        field = Case._meta.get_field(change.field)
        label = str(field.verbose_name)
        if field.many_to_many:  # the history keeps the links as they were, as rows
            before, after = (
                "; ".join(sorted(str(link) for link in links))
                for links in (change.old or [], change.new or [])
            )
        else:
            before, after = field_text(old, change.field), field_text(new, change.field)
        changes.append(Change(label[:1].upper() + label[1:], before, after, change.field))
    return changes
