"""generate_synthetic: fill a database with plausible, clearly synthetic records.

For benchmarks and load tests only. Every synthetic record is recognisable:

- its citation's PMID lies in the reserved range 900,000,000-999,999,999
  (PubMed's PMIDs are 8 digits today, about 40 million; NCBI will not reach
  this range for decades), and a case is synthetic when its primary
  citation is;
- titles start with "[SYNTHETIC]", the journal is "Synthetic Journal of
  Dermatopathology", DOIs are 10.5555/rarederm-synthetic.<pmid> (10.5555 is
  the DOI prefix kept for examples and tests);
- everything is owned by the inactive user "rarederm-synthetic".

Sub-ranges: this command numbers citations from 900,000,001; the benchmarks
(benchmarks/run.py) fetch and import renumbered PubMed records from
980,000,001 and 990,000,001. `generate_synthetic --delete` removes every
record of the whole range, whoever made it.

The records are plausible, not real: each diagnosis of the shipped
vocabulary has its own age, sex, sites, IHC panel and fusions (ALK fusions
with their usual partners in inflammatory myofibroblastic tumour, COL1A1::PDGFB
in DFSP, melanocytic markers in melanoma...), weighted as a registry of rare
skin tumours would be. The same --seed gives the same records.

Written with bulk_create in batches, so django-simple-history writes no
history rows for them (it hooks save(), which bulk_create bypasses): right
for synthetic data, which has no past. Cases are created published, with one
audit event each ("synthetic data").

The command refuses a database holding real (non-synthetic) cases unless
--allow-real-data: synthetic records belong in a database of their own, never
mixed into demo or production data.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import time
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import reset_queries, transaction
from django.db.models import Q

from citations.models import Author, Citation, FetchJobItem
from curation import molecular, workflow
from curation.models import (
    Case,
    CaseEvent,
    ClinicalEvent,
    Diagnosis,
    FusionFinding,
    Gene,
    IHCResult,
    Marker,
    MolecularFinding,
    Topography,
    Treatment,
)
from curation.search import cache as search_cache
from curation.synthetic.profiles import (
    BACKGROUNDS,
    CLONES,
    COURSE,
    DEATH_OF_DISEASE_SHARE,
    DURATIONS,
    FORE_NAMES,
    LAST_NAMES,
    OUTCOMES,
    PATTERNS,
    PRESENTATIONS,
    PROFILES,
    SITES,
    TREATMENTS,
    Profile,
)

SYNTHETIC_PMID_MIN = 900_000_000
SYNTHETIC_PMID_MAX = 999_999_999
# This command's citations; 980,000,001+ and 990,000,001+ are the benchmarks'.
GENERATED_PMID_START = 900_000_001
MAX_GENERATED_CITATIONS = 80_000_000
SYNTHETIC_USERNAME = "rarederm-synthetic"
TITLE_PREFIX = "[SYNTHETIC]"
JOURNAL = "Synthetic Journal of Dermatopathology"
JOURNAL_ISO = "Synth J Dermatopathol"
DOI_PREFIX = "10.5555/rarederm-synthetic."
# Citations per batch: each batch is one transaction of a few thousand rows.
BATCH_CITATIONS = 1000
EPOCH = dt.datetime(2010, 1, 1, tzinfo=dt.UTC)


def synthetic_citations(first: int = SYNTHETIC_PMID_MIN, last: int = SYNTHETIC_PMID_MAX):
    if not SYNTHETIC_PMID_MIN <= first <= last <= SYNTHETIC_PMID_MAX:
        raise ValueError(f"{first}-{last} is not inside the reserved synthetic PMID range")
    return Citation.objects.filter(pmid__gte=first, pmid__lte=last)


def synthetic_cases():
    return Case.objects.filter(
        citation__pmid__gte=SYNTHETIC_PMID_MIN, citation__pmid__lte=SYNTHETIC_PMID_MAX
    )


def _weighted(rng: random.Random, options: dict) -> str:
    keys = list(options)
    return rng.choices(keys, weights=[options[k] for k in keys])[0]


class Vocab:
    """The vocabulary rows the generator draws from, looked up once."""

    def __init__(self):
        self.diagnoses = {d.name.lower(): d for d in Diagnosis.objects.all()}
        self.topography = {t.code: t for t in Topography.objects.all()}
        self.genes = {g.symbol: g for g in Gene.objects.all()}
        self.markers = {m.name: m for m in Marker.objects.all()}
        self.profiles = {
            name: profile for name, profile in PROFILES.items() if name in self.diagnoses
        }
        if not self.profiles or not self.topography:
            raise CommandError(
                "The vocabularies are empty: run `manage.py migrate` (it loads them) first."
            )
        self.diagnosis_weights = {name: p.weight for name, p in self.profiles.items()}


# -- generation ------------------------------------------------------------------


class Generator:
    def __init__(self, seed: int, vocab: Vocab, user):
        self.rng = random.Random(seed)  # noqa: S311 (reproducible test data, not secrets)
        self.seed = seed
        self.vocab = vocab
        self.user = user

    def case_counts(self, cases: int, citations: int) -> list[int]:
        """How many cases each citation reports: mostly one, some case series."""
        counts = [0] * citations
        if not citations:
            return counts
        first = min(cases, citations)
        for i in range(first):
            counts[i] = 1
        series = max(1, citations // 10)
        for _ in range(cases - first):
            # Half the extra cases go to a tenth of the papers: case series.
            if self.rng.random() < 0.5:
                counts[self.rng.randrange(series)] += 1
            else:
                counts[self.rng.randrange(citations)] += 1
        return counts

    def case(self, citation: Citation, label: str) -> tuple[Case, dict]:
        rng, vocab = self.rng, self.vocab
        dx_name = _weighted(rng, vocab.diagnosis_weights)
        profile = vocab.profiles[dx_name]
        site_weights = {code: 1 for code in vocab.topography if code.startswith("C44")}
        for code, extra in profile.sites.items():
            if code in vocab.topography:
                site_weights[code] = site_weights.get(code, 0) + extra * 3
        code = _weighted(rng, site_weights)
        topography = vocab.topography[code]
        age = max(0.2, min(95.0, rng.gauss(*profile.age)))
        if age < 2:
            age_value, age_unit = Decimal(int(age * 12) or 1), Case.AgeUnit.MONTHS
        else:
            age_value, age_unit = Decimal(int(age)), Case.AgeUnit.YEARS
        detail = rng.choice(SITES.get(code) or [topography.name.lower()])
        cell_type = rng.choice(profile.cell_types)
        pattern = rng.choice(PATTERNS)
        background = rng.choice(BACKGROUNDS)
        depth = rng.choice(profile.depth)
        cell_label = Case.CellType(cell_type).label.lower()
        histology = (
            f"{TITLE_PREFIX} Proliferation of {cell_label} arranged in {pattern}, "
            f"involving the {Case.Depth(depth).label.lower()}"
            + (f", with {background}." if background else ".")
        )
        followed = rng.random() < 0.7
        follow_up = rng.randrange(2, 120)
        status = rng.choice(OUTCOMES) if followed else ""
        course = []
        if followed:
            # Events come before the last follow-up; a death of disease ends it.
            course = [
                (kind, rng.randrange(1, follow_up))
                for kind, share in COURSE
                if rng.random() < share
            ]
            if rng.random() < DEATH_OF_DISEASE_SHARE:
                course.append(("death_of_disease", follow_up))
                status = "dod"
            elif course and status == "ned":
                status = rng.choice(["ned", "awd"])
        published = EPOCH + dt.timedelta(seconds=rng.randrange(16 * 365 * 86400))
        initial = None
        if profile.differentials and rng.random() < 0.2:
            initial = vocab.diagnoses.get(rng.choice(profile.differentials))
        case = Case(
            citation=citation,
            label=label,
            age=age_value,
            age_unit=age_unit,
            sex=Case.Sex.FEMALE if rng.random() < profile.female else Case.Sex.MALE,
            topography=topography,
            site_detail=detail,
            laterality=rng.choice(["left", "right", "", "midline"]) if detail else "",
            size_mm=Decimal(rng.randrange(3, 80)),
            clinical_presentation=rng.choice(PRESENTATIONS),
            duration=rng.choice(DURATIONS),
            initial_diagnosis=initial,
            final_diagnosis=vocab.diagnoses[dx_name],
            histology=histology,
            histology_pattern=pattern,
            cell_type=cell_type,
            inflammatory_background=background,
            depth=depth,
            epidermal_involvement=rng.choice(Case.EpidermalInvolvement.values),
            treatment=rng.choice(TREATMENTS),
            follow_up_months=Decimal(follow_up) if followed else None,
            outcome=status,
            notes=f"{TITLE_PREFIX} Generated by generate_synthetic (seed {self.seed}).",
            status=Case.Status.PUBLISHED,
            submitted_at=published - dt.timedelta(days=rng.randrange(1, 60)),
            published_at=published,
            created_by=self.user,
        )
        fusion = None
        if profile.fusions and rng.random() < profile.fusion_rate:
            weights = {i: w for i, (_, _, w) in enumerate(profile.fusions)}
            five, three, _ = profile.fusions[int(_weighted(rng, weights))]
            fusion = (five, three)
        panel = self.panel(profile, fusion)
        method = ""
        if fusion:
            method = (
                FusionFinding.Method.FISH_BREAK_APART
                if fusion[0] is None
                else FusionFinding.Method.RNA_SEQ
            )
        case.evidence_grade = molecular.supported_grade(
            [method] if method else [], [result for _m, _c, result, _p in panel]
        )
        findings = {
            "dx": dx_name,
            "fusion": fusion,
            "method": method,
            "course": course,
            "panel": panel,
            "differentials": [
                name
                for name in profile.differentials
                if name in vocab.diagnoses and rng.random() < 0.3
            ],
        }
        return case, findings

    def panel(self, profile: Profile, fusion) -> list[tuple[str, str, str, int | None]]:
        """(marker, clone, result, % cells) in panel order: the first two always stained."""
        rng = self.rng
        fused_gene = fusion[1] if fusion else None
        rows = []
        for index, (marker, chance) in enumerate(profile.panel.items()):
            if marker not in self.vocab.markers:
                continue
            if index >= 2 and rng.random() < 0.35:
                continue  # not every panel is complete
            clone = rng.choice(CLONES[marker]) if marker in CLONES else ""
            if marker == "Ki-67":
                rows.append((marker, clone, "positive", rng.choice([2, 5, 10, 15, 20, 30, 40])))
                continue
            if fused_gene and marker in {"ALK", "ROS1"}:
                chance = 0.95 if marker == fused_gene else 0.02
            elif marker == "pan-TRK" and fused_gene in {"NTRK1", "NTRK3"}:
                chance = 0.95
            roll = rng.random()
            if roll < chance:
                result = "positive"
            elif roll < chance + 0.03:
                result = "equivocal"
            else:
                result = "negative"
            rows.append((marker, clone, result, None))
        return rows

    def citation(self, pmid: int, title_cases: list[tuple[Case, dict]]) -> Citation:
        rng = self.rng
        year = rng.randrange(1995, 2026)
        if title_cases:
            case, found = title_cases[0]
            fusion = found["fusion"]
            fusion_text = ""
            if fusion:
                fusion_text = (
                    f" with {fusion[0]}::{fusion[1]} fusion"
                    if fusion[0]
                    else f" with {fusion[1]} rearrangement"
                )
            subject = f"{found['dx'].capitalize()} of the {case.site_detail or 'skin'}"
            kind = (
                "a case report"
                if len(title_cases) == 1
                else f"a series of {len(title_cases)} cases"
            )
            title = f"{TITLE_PREFIX} {subject}{fusion_text}: {kind}"
        else:
            title = f"{TITLE_PREFIX} Review of rare cutaneous mesenchymal tumours"
        return Citation(
            pmid=pmid,
            doi=f"{DOI_PREFIX}{pmid}",
            title=title,
            abstract=[
                {
                    "label": "",
                    "category": "UNASSIGNED",
                    "text": f"{TITLE_PREFIX} Not a real article: generated by RareDerm's "
                    f"generate_synthetic command (seed {self.seed}) for benchmarks.",
                }
            ],
            journal=JOURNAL,
            journal_iso=JOURNAL_ISO,
            volume=str(year - 1990),
            issue=str(rng.randrange(1, 13)),
            pages=f"{rng.randrange(1, 900)}-{rng.randrange(900, 999)}",
            year=year,
            month=rng.randrange(1, 13),
            language="eng",
            publication_types=["Journal Article", "Case Reports"],
            keywords=[found["dx"] for _, found in title_cases[:1]],
            fetch_status=Citation.FetchStatus.FETCHED,
            fetched_at=EPOCH,
        )

    def authors(self, citation: Citation) -> list[Author]:
        rng = self.rng
        return [
            Author(
                citation=citation,
                position=position,
                last_name=rng.choice(LAST_NAMES),
                fore_name=(fore := rng.choice(FORE_NAMES)),
                initials=fore[0],
                affiliations=["Department of Synthetic Dermatopathology, Example University"],
            )
            for position in range(rng.randrange(1, 7))
        ]


def _synthetic_user():
    user, created = get_user_model().objects.get_or_create(
        username=SYNTHETIC_USERNAME,
        defaults={"is_active": False, "email": "", "first_name": "Synthetic", "last_name": "Data"},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def generate(cases: int, citations: int, seed: int, *, progress=None) -> dict[str, int]:
    """Create the records; returns how many rows of each kind were written."""
    vocab = Vocab()
    user = _synthetic_user()
    gen = Generator(seed, vocab, user)
    counts = gen.case_counts(cases, citations)
    written = dict.fromkeys(("citations", "authors", "cases", "ihc", "fusions", "events"), 0)
    through = Case.differentials.through
    for start in range(0, citations, BATCH_CITATIONS):
        pmids = range(
            GENERATED_PMID_START + start,
            GENERATED_PMID_START + min(citations, start + BATCH_CITATIONS),
        )
        batch: list[tuple[Citation, list[tuple[Case, dict]]]] = []
        for offset, pmid in enumerate(pmids):
            n = counts[start + offset]
            labelled = [
                gen.case(None, f"Case {i + 1}" if n > 1 else "")  # type: ignore[arg-type]
                for i in range(n)
            ]
            batch.append((gen.citation(pmid, labelled), labelled))
        with transaction.atomic():
            Citation.objects.bulk_create([c for c, _ in batch])
            author_rows = [a for c, _ in batch for a in gen.authors(c)]
            Author.objects.bulk_create(author_rows, batch_size=5000)
            case_rows = []
            for citation, labelled in batch:
                for case, _ in labelled:
                    case.citation = citation
                    case_rows.append(case)
            Case.objects.bulk_create(case_rows, batch_size=2000)
            ihc, fusions, events, differentials, course = [], [], [], [], []
            for _, labelled in batch:
                for case, found in labelled:
                    for position, (marker, clone, result, percent) in enumerate(found["panel"]):
                        ihc.append(
                            IHCResult(
                                case=case,
                                marker=vocab.markers[marker],
                                clone=clone,
                                result=result,
                                percent_cells=percent,
                                position=position,
                            )
                        )
                    if found["fusion"]:
                        five, three = found["fusion"]
                        fusions.append(
                            FusionFinding(
                                case=case,
                                five_prime_gene=vocab.genes.get(five) if five else None,
                                three_prime_gene=vocab.genes[three],
                                partner_status="known" if five else "unknown",
                                method=found["method"],
                                as_reported=f"{five}-{three}" if five else f"{three} break-apart",
                            )
                        )
                    differentials.extend(
                        through(case=case, diagnosis=vocab.diagnoses[name])
                        for name in found["differentials"]
                    )
                    course.extend(
                        ClinicalEvent(case=case, kind=kind, months=months, position=position)
                        for position, (kind, months) in enumerate(found["course"])
                    )
                    events.append(
                        CaseEvent(
                            case=case,
                            actor=user,
                            from_status=workflow.DRAFT,
                            to_status=workflow.PUBLISHED,
                            comment="Synthetic data (generate_synthetic).",
                            created_at=case.published_at,
                        )
                    )
            IHCResult.objects.bulk_create(ihc, batch_size=5000)
            FusionFinding.objects.bulk_create(fusions, batch_size=5000)
            ClinicalEvent.objects.bulk_create(course, batch_size=5000)
            through.objects.bulk_create(differentials, batch_size=5000)
            CaseEvent.objects.bulk_create(events, batch_size=5000)
        # With DEBUG on, Django keeps every query's SQL (these are megabytes each).
        reset_queries()
        written["citations"] += len(batch)
        written["authors"] += len(author_rows)
        written["cases"] += len(case_rows)
        written["ihc"] += len(ihc)
        written["fusions"] += len(fusions)
        written["events"] += len(events)
        if progress:
            progress(written)
    search_cache.bump()  # bulk inserts send no signals: cached search counts are obsolete
    return written


def delete_synthetic(
    first: int = SYNTHETIC_PMID_MIN, last: int = SYNTHETIC_PMID_MAX
) -> dict[str, int]:
    """Remove every citation in the reserved PMID range (or a part of it) and its cases.

    Raw DELETEs rather than QuerySet.delete(): the latter would load each row
    and send signals, and simple-history would write a "deleted" history row
    for each of 100,000 cases. The order respects the foreign keys.
    """
    removed: dict[str, int] = {}
    citation_ids = synthetic_citations(first, last).values("pk")
    case_ids = Case.objects.filter(citation__in=citation_ids).values("pk")
    with transaction.atomic():
        # Revisions of synthetic cases are synthetic too (same citation), so
        # revision_of links stay inside the set; clear them so the order
        # below cannot trip over one.
        Case.objects.filter(pk__in=case_ids).exclude(revision_of=None).update(revision_of=None)
        for label, queryset in [
            ("ihc", IHCResult.objects.filter(case__in=case_ids)),
            ("ihc history", IHCResult.history.filter(case_id__in=case_ids)),
            ("fusions", FusionFinding.objects.filter(case__in=case_ids)),
            ("molecular findings", MolecularFinding.objects.filter(case__in=case_ids)),
            ("treatments", Treatment.objects.filter(case__in=case_ids)),
            ("clinical events", ClinicalEvent.objects.filter(case__in=case_ids)),
            ("fusion history", FusionFinding.history.filter(case_id__in=case_ids)),
            ("events", CaseEvent.objects.filter(case__in=case_ids)),
            ("differentials", Case.differentials.through.objects.filter(case__in=case_ids)),
            ("other citations", Case.other_citations.through.objects.filter(case__in=case_ids)),
            (
                "links to synthetic citations",
                Case.other_citations.through.objects.filter(citation__in=citation_ids),
            ),
            ("case history", Case.history.filter(citation_id__in=citation_ids)),
            ("cases", Case.objects.filter(pk__in=case_ids)),
            ("authors", Author.objects.filter(citation__in=citation_ids)),
        ]:
            removed[label] = _raw_delete(queryset)
        FetchJobItem.objects.filter(citation__in=citation_ids).update(citation=None)
        removed["citations"] = _raw_delete(synthetic_citations(first, last))
        search_cache.bump()  # raw deletes send no signals: cached search counts are obsolete
    return removed


def _raw_delete(queryset) -> int:
    # QuerySet._raw_delete: one DELETE ... WHERE, no row loading, no signals.
    return queryset._raw_delete(queryset.db)


class Command(BaseCommand):
    help = (
        "Create N published, clearly synthetic cases on M synthetic citations (PMIDs "
        f"{SYNTHETIC_PMID_MIN:,}-{SYNTHETIC_PMID_MAX:,}, titles '{TITLE_PREFIX} ...') for "
        "benchmarks; --delete removes every synthetic record."
    )

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=1000, help="cases to create")
        parser.add_argument(
            "--citations",
            type=int,
            default=None,
            help="citations to create (default: half the cases, rounded up)",
        )
        parser.add_argument("--seed", type=int, default=1, help="same seed, same records")
        parser.add_argument(
            "--delete", action="store_true", help="remove every synthetic record, then stop"
        )
        parser.add_argument(
            "--allow-real-data",
            action="store_true",
            help="add synthetic records to a database that holds real cases (not advised)",
        )

    def handle(self, *args, cases, citations, seed, delete, allow_real_data, **options):
        if delete:
            started = time.monotonic()
            removed = delete_synthetic()
            self.stdout.write(
                f"Removed {removed['cases']:,} synthetic cases and {removed['citations']:,} "
                f"synthetic citations in {time.monotonic() - started:.1f} s."
            )
            return
        if citations is None:
            citations = math.ceil(cases / 2)
        if cases < 0 or citations < 0:
            raise CommandError("--cases and --citations cannot be negative.")
        if cases and not citations:
            raise CommandError("Cases need citations: give --citations of at least 1.")
        if citations > MAX_GENERATED_CITATIONS:
            raise CommandError(f"At most {MAX_GENERATED_CITATIONS:,} synthetic citations.")
        existing = synthetic_citations().count()
        if existing:
            raise CommandError(
                f"This database already holds {existing:,} synthetic citations; remove them "
                "first with `manage.py generate_synthetic --delete`."
            )
        real = Case.objects.exclude(
            Q(citation__pmid__gte=SYNTHETIC_PMID_MIN) & Q(citation__pmid__lte=SYNTHETIC_PMID_MAX)
        ).count()
        if real and not allow_real_data:
            raise CommandError(
                f"This database holds {real:,} real case(s). Synthetic records belong in a "
                "database of their own (set DATABASE_URL); --allow-real-data overrides this."
            )
        started = time.monotonic()
        verbosity = options.get("verbosity", 1)

        def progress(written):
            if verbosity > 1:
                self.stdout.write(
                    f"  {written['cases']:,} cases, {written['citations']:,} citations, "
                    f"{time.monotonic() - started:.0f} s"
                )

        written = generate(cases, citations, seed, progress=progress)
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Created {written['cases']:,} synthetic cases ({written['ihc']:,} IHC results, "
            f"{written['fusions']:,} fusions) on {written['citations']:,} synthetic citations "
            f"(PMIDs from {GENERATED_PMID_START:,}) in {elapsed:.1f} s, seed {seed}."
        )
