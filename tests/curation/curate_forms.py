"""Helpers for the curator-workflow tests: the POST a browser sends from the case form."""

from django.urls import reverse

from curation.models import Case
from tests.conftest import PASSWORD

CASE_FIELDS = {
    "label": "",
    "age": "",
    "age_unit": "years",
    "sex": "",
    "topography": "",
    "site_detail": "",
    "laterality": "",
    "size_mm": "",
    "clinical_presentation": "",
    "duration": "",
    "clinical_diagnosis": "",
    "initial_diagnosis": "",
    "final_diagnosis": "",
    "histology": "",
    "histology_pattern": "",
    "cell_type": "",
    "inflammatory_background": "",
    "depth": "",
    "epidermal_involvement": "",
    "treatment": "",
    "follow_up_months": "",
    "outcome": "",
    "notes": "",
}


def case_post(
    case: Case,
    *,
    ihc=(),
    fusions=(),
    molecular=(),
    treatments=(),
    events=(),
    action="save",
    version=None,
    **fields,
) -> dict:
    """Form data as the case page posts it: ihc=[{"marker": "ALK", "result": "positive"}],
    fusions=[{"written": "CARS-ALK"}], molecular=[{"kind": "variant", "gene": "BRAF",
    "hgvs_protein": "V600E"}], treatments=[{"kind": "mohs"}],
    events=[{"kind": "local_recurrence", "months": "14"}]."""
    data = {**CASE_FIELDS, **{k: "" if v is None else str(v) for k, v in fields.items()}}
    data["version"] = str(case.version if version is None else version)
    data["action"] = action
    for prefix, rows in (
        ("ihc", ihc),
        ("fusion", fusions),
        ("molecular", molecular),
        ("treatment", treatments),
        ("event", events),
    ):
        data[f"{prefix}-TOTAL_FORMS"] = str(len(rows))
        data[f"{prefix}-INITIAL_FORMS"] = "0"
        data[f"{prefix}-MIN_NUM_FORMS"] = "0"
        data[f"{prefix}-MAX_NUM_FORMS"] = "100"
        for i, row in enumerate(rows):
            for name, value in row.items():
                data[f"{prefix}-{i}-{name}"] = "" if value is None else str(value)
    return data


def founding_case(**extra) -> dict:
    """The founding case (PMID 35560368) as a curator types it."""
    return {
        "label": "",
        "age": "38",
        "age_unit": "years",
        "sex": "female",
        "topography": "C44.4 Skin of scalp and neck",
        "site_detail": "posterior scalp",
        "final_diagnosis": "inflammatory myofibroblastic tumor",
        "histology": "Spindle cells in fascicles with a lymphocytic background.",
        **extra,
    }


def edit_url(case: Case) -> str:
    return reverse("curation:case_edit", args=[case.pk])


def log_in(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client
