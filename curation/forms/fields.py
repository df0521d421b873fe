"""Vocabulary lookups and the small field helpers the curator's forms share.

Vocabulary fields (diagnosis, site, marker) are text inputs backed by a
<datalist>: the curator types or picks, and the text is resolved here to the
vocabulary row (by its label, name, code or a synonym), or refused with a
message next to the field.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.urls import reverse

from curation.models import Clone, Diagnosis, Marker, Topography

# Free-text fields (histology, treatment, notes...): a case report's longest
# paragraph is a few thousand characters; a pasted 100 KB blob is refused with
# a message rather than stored.
TEXT_LIMIT = 20_000
VOCABULARY_INPUT_LIMIT = 300

# -- vocabularies -----------------------------------------------------------------


def _fold(text: str) -> str:
    return " ".join(str(text).split()).casefold()


class Vocabulary:
    """One vocabulary loaded once per request, looked up by any name a curator may type."""

    noun = "term"
    key = ""  # the URL name of its autocomplete endpoint's vocabulary
    model: type = None

    def __init__(self):
        self._rows = None
        self._index: dict[str, object] = {}

    @property
    def rows(self) -> list:
        if self._rows is None:
            self._rows = list(self.queryset())
            for row in self._rows:
                for key in self.keys(row):
                    self._index.setdefault(_fold(key), row)
            for key in self.shared_keys():
                self._index.pop(key, None)
        return self._rows

    def shared_keys(self) -> set[str]:
        """Keys several rows have (e.g. an ICD-O code of several subtypes): they resolve
        to none of them, never silently to the first."""
        return set()

    def queryset(self):
        return self.model.objects.order_by("name")

    def keys(self, row) -> list[str]:
        return [self.label(row), row.name, *(getattr(row, "synonyms", None) or [])]

    def label(self, row) -> str:
        return str(row)

    def option(self, row) -> tuple[str, str]:
        """(value, hint) of a <datalist> option; the hint lists synonyms, so typing one works."""
        synonyms = [k for k in self.keys(row)[1:] if _fold(k) not in _fold(self.label(row))]
        return self.label(row), "; ".join(dict.fromkeys(synonyms))

    def find(self, text: str):
        self.rows  # noqa: B018 (loads the index)
        return self._index.get(_fold(text))

    def suggest(self, text: str, limit: int = 20) -> list:
        """Rows whose label, name or synonym contains the typed words; label matches first."""
        words = _fold(text).split()[:6]
        hits = []
        for row in self.rows:
            keys = [_fold(key) for key in self.keys(row)]
            if all(any(word in key for key in keys) for word in words):
                starts = any(key.startswith(words[0]) for key in keys) if words else True
                hits.append((not starts, self.label(row).casefold(), row))
        hits.sort(key=lambda hit: hit[:2])
        return [row for *_, row in hits[:limit]]


class Diagnoses(Vocabulary):
    """Diagnoses by name, synonym, older name or (when only one has it) ICD-O-3.2 code.

    Search terms (inflammatory pseudotumour for IMT) are deliberately not keys:
    they find cases in a search but are never what a curator's entry resolves to.
    """

    noun = "diagnosis"
    key = "diagnosis"
    model = Diagnosis

    def queryset(self):
        return Diagnosis.objects.select_related("family").order_by("name")

    def keys(self, row) -> list[str]:
        return [
            self.label(row),
            *row.resolving_names(),
            *([row.icdo3_code] if row.icdo3_code else []),
        ]

    def shared_keys(self) -> set[str]:
        codes: dict[str, int] = {}
        for row in self._rows:
            if row.icdo3_code:
                codes[row.icdo3_code] = codes.get(row.icdo3_code, 0) + 1
        return {_fold(code) for code, n in codes.items() if n > 1}

    def option(self, row) -> tuple[str, str]:
        value, hint = super().option(row)
        family = row.family.name if row.family_id else "not yet placed in a WHO family"
        return value, "; ".join(h for h in (family, hint) if h)


class Sites(Vocabulary):
    noun = "site"
    key = "topography"
    model = Topography

    def queryset(self):
        return Topography.objects.order_by("code")

    def keys(self, row) -> list[str]:
        return [self.label(row), row.code, row.name]


class Markers(Vocabulary):
    noun = "marker"
    key = "marker"
    model = Marker

    _clones: dict | None = None

    def clone(self, marker, text: str):
        """The marker's clone called `text` (its controlled list), or None: an "other" clone.

        Every clone is read once, on the first call (a form with clones typed)."""
        if self._clones is None:
            self._clones = {
                (c.marker_id, _fold(c.name)): c for c in Clone.objects.select_related("marker")
            }
        return self._clones.get((marker.pk, _fold(text)))


class Clones(Vocabulary):
    """Antibody clones, suggested under the clone input as the curator types."""

    noun = "clone"
    key = "clone"
    model = Clone

    def queryset(self):
        return Clone.objects.select_related("marker").order_by("name")

    def keys(self, row) -> list[str]:
        return [row.name, row.marker.name]

    def label(self, row) -> str:
        return row.name

    def option(self, row) -> tuple[str, str]:
        return row.name, f"{row.marker.name} clone"


VOCABULARIES = {"diagnosis": Diagnoses, "topography": Sites, "marker": Markers}


class ProposeTerm:
    """The small "propose it" part next to a vocabulary field (checkbox, code, source link).

    It appears under a field whose text is not in the vocabulary; ticking it
    turns the error into a proposal that the case keeps as its pending value.
    """

    def __init__(self, form, prefix: str, *, code_label: str = "", code_help: str = ""):
        self.form = form
        self.prefix = prefix
        f = form.fields
        f[f"{prefix}_propose"] = forms.BooleanField(
            required=False, label="Propose it as a new term"
        )
        if code_label:
            f[f"{prefix}_code"] = forms.CharField(
                required=False, max_length=40, label=code_label, help_text=code_help
            )
        f[f"{prefix}_source"] = forms.URLField(
            required=False,
            assume_scheme="https",
            max_length=500,
            label="Source link",
            help_text="Where the term is defined (WHO, HGNC, a paper).",
            error_messages={"invalid": "Enter a full link, starting with https://."},
        )

    def wanted(self) -> bool:
        return bool(self.form.cleaned_data.get(f"{self.prefix}_propose"))

    def values(self) -> dict:
        data = self.form.cleaned_data
        return {
            "code": (data.get(f"{self.prefix}_code") or "").strip(),
            "source_url": data.get(f"{self.prefix}_source") or "",
        }


def unknown_text(form, name: str) -> str:
    """The text of field `name` if its only error is "not in the vocabulary", else ""."""
    errors = form.errors.as_data().get(name, [])
    if errors and all(e.code == "unknown" for e in errors):
        return " ".join(str(form.data.get(form.add_prefix(name), "")).split())
    return ""


class VocabularyField(forms.CharField):
    """A vocabulary row chosen by typing its name (or a synonym, or its code)."""

    def __init__(self, *, vocabulary: Vocabulary | None = None, datalist: str = "", **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", VOCABULARY_INPUT_LIMIT)
        self.vocabulary = vocabulary
        self.datalist = datalist
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs["autocomplete"] = "off"
        if self.datalist:
            attrs["list"] = self.datalist
            # Suggestions from the server as the curator types (synonyms included).
            attrs["hx-get"] = reverse("curation:autocomplete", args=[self.vocabulary.key])
            attrs["hx-trigger"] = "input changed delay:250ms"
            attrs["hx-target"] = f"#{self.datalist}"
            attrs["hx-swap"] = "innerHTML"
            attrs["hx-sync"] = "this:replace"
        return attrs

    def prepare_value(self, value):
        if hasattr(value, "_meta"):
            return self.vocabulary.label(value)
        return value

    def clean(self, value):
        text = super().clean(value)
        if not text:
            return None
        row = self.vocabulary.find(text)
        if row is None:
            raise ValidationError(
                f"“{text[:80]}” is not in the {self.vocabulary.noun} list: pick one of the "
                "suggestions, or propose it as a new term (below) for a reviewer to add.",
                code="unknown",
            )
        return row


def _text(label="", *, limit=TEXT_LIMIT, rows=3, help_text=""):
    return forms.CharField(
        label=label or None,
        required=False,
        strip=True,
        widget=forms.Textarea(attrs={"rows": rows}),
        validators=[MaxLengthValidator(limit)],
        error_messages={
            "max_length": f"At most {limit:,} characters here (you typed %(show_value)s)."
        },
        help_text=help_text,
    )


def _model_field(model, name, **overrides):
    field = model._meta.get_field(name).formfield(**overrides)
    field.required = False
    return field


def _choices(choices) -> list:
    return [("", "—"), *choices]


class VocabularyListField(forms.CharField):
    """Several vocabulary rows typed in one box, separated by “;” or new lines
    (the differential diagnoses); every name must be in the vocabulary."""

    widget = forms.Textarea(attrs={"rows": 2})

    def __init__(self, *, vocabulary: Vocabulary | None = None, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 3_000)
        self.vocabulary = vocabulary
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return "; ".join(self.vocabulary.label(row) for row in value)
        return value

    def clean(self, value):
        text = super().clean(value)
        names = [" ".join(n.split()) for n in text.replace("\n", ";").split(";")]
        rows, unknown = [], []
        for name in filter(None, names):
            row = self.vocabulary.find(name)
            if row is None:
                unknown.append(name[:80])
            elif row not in rows:
                rows.append(row)
        if unknown:
            raise ValidationError(
                "Not in the diagnosis list: "
                + "; ".join(f"“{n}”" for n in unknown)
                + ". Pick listed names (separated by “;”), and keep the paper's own words "
                "in “as reported”.",
                code="unknown",
            )
        return rows
