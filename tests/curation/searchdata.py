"""A small published registry for the search tests (and one draft that must never show).

    cases = build_registry()   # dict name -> Case

name       diagnosis         site   age/sex    IHC                     fusion         year  outcome
scalp_imt  IMT               C44.4  38 y F     ALK+ SMA+ S100- SOX10-  CARS1::ALK     2022  ned
trunk_imt  IMT               C44.5  8 y M      ALK+ SMA- desmin+       TPM3::ALK      2019  awd *
infant     IMT               C44.6  18 mo F    ALK+                    ?::ALK (FISH)  2019  -
dfsp       DFSP              C49.6  45 y M     CD34+ S100-             COL1A1::PDGFB  2020  ned
melanoma   spindle cell mel. C44.3  70 y F     S100+ SOX10+ ALK-       -              2021  dod *
* trunk_imt: recurrence at 14 months; melanoma: lung metastasis at 10, death at 16.
Evidence grades: A (fusion by RNA sequencing) but infant B (FISH) and melanoma C (IHC only);
dfsp also has an MDM2 amplification by FISH (made up, for the finding facets).
draft      IMT (a DRAFT)     C44.4  40 y F     ALK+                    CARS1::ALK     2022  -
"""

from curation.models import Case
from tests.factories import (
    CaseFactory,
    CitationFactory,
    diagnosis,
    make_published_case,
    topography,
)

DRAFT_WORD = "quokkaoma"  # only the draft's histology has it


def citation(pmid, title, year, abstract="", authors=None):
    return CitationFactory(
        pmid=pmid,
        title=title,
        year=year,
        abstract=[{"label": "", "category": "", "text": abstract}] if abstract else [],
        authors=authors,
    )


def build_registry() -> dict[str, Case]:
    imt = diagnosis("inflammatory myofibroblastic tumor")
    cases = {}
    cases["scalp_imt"] = make_published_case(
        citation=citation(
            35560368,
            "Cutaneous inflammatory myofibroblastic tumor with CARS-ALK fusion",
            2022,
            "A painless nodule on the scalp of a 38-year-old woman.",
            authors=[("McCollum", "KJ"), ("Al-Rohil", "RN")],
        ),
        final_diagnosis=imt,
        topography=topography("C44.4"),
        site_detail="posterior scalp",
        age=38,
        sex=Case.Sex.FEMALE,
        outcome=Case.Outcome.NED,
        ihc=[
            ("ALK", "positive"),
            ("SMA", "positive"),
            ("S100", "negative"),
            ("SOX10", "negative"),
        ],
        fusions=["CARS1::ALK"],
    )
    cases["trunk_imt"] = make_published_case(
        citation=citation(31000001, "An ALK-rearranged myofibroblastic tumour of the back", 2019),
        final_diagnosis=imt,
        topography=topography("C44.5"),
        site_detail="upper back",
        age=8,
        sex=Case.Sex.MALE,
        follow_up_months=20,
        outcome=Case.Outcome.AWD,
        events=[("local_recurrence", 14)],
        treatments=[("wide_local_excision", {"margins": "positive"})],
        ihc=[("ALK", "positive"), ("SMA", "negative"), ("desmin", "positive")],
        fusions=["TPM3::ALK"],
    )
    cases["infant"] = make_published_case(
        citation=citation(31000002, "Congenital spindle cell lesion of the arm", 2019),
        final_diagnosis=imt,
        topography=topography("C44.6"),
        site_detail="forearm",
        age=18,
        age_unit=Case.AgeUnit.MONTHS,
        sex=Case.Sex.FEMALE,
        ihc=[("ALK", "positive")],
        fusions=[("?::ALK", "fish_break_apart")],
        source_depth=Case.SourceDepth.ABSTRACT,
    )
    cases["dfsp"] = make_published_case(
        citation=citation(31000003, "Dermatofibrosarcoma protuberans of the chest wall", 2020),
        final_diagnosis=diagnosis("dermatofibrosarcoma protuberans"),
        topography=topography("C49.6"),
        site_detail="chest wall",
        age=45,
        sex=Case.Sex.MALE,
        outcome=Case.Outcome.NED,
        histology="Storiform spindle cells infiltrating fat in a honeycomb pattern.",
        ihc=[("CD34", "positive"), ("S100", "negative")],
        fusions=["COL1A1::PDGFB"],
        molecular=[
            ("copy_number", "MDM2", {"copy_number": "amplification", "method": "fish_copy_number"})
        ],
    )
    cases["melanoma"] = make_published_case(
        citation=citation(31000004, "Spindle cell melanoma mimicking a sarcoma", 2021),
        final_diagnosis=diagnosis("spindle cell melanoma"),
        topography=topography("C44.3"),
        site_detail="cheek",
        age=70,
        sex=Case.Sex.FEMALE,
        follow_up_months=16,
        outcome=Case.Outcome.DOD,
        events=[("distant_metastasis", 10, {"site": "lung"}), ("death_of_disease", 16)],
        histology="Atypical spindle cells.",
        ihc=[("S100", "positive"), ("SOX10", "positive"), ("ALK", "negative")],
        fusions=[],
        source_depth=Case.SourceDepth.FULL_TEXT,
    )
    cases["draft"] = CaseFactory(
        citation=citation(31000005, f"A {DRAFT_WORD} of the scalp, still a draft", 2022),
        final_diagnosis=imt,
        topography=topography("C44.4"),
        age=40,
        histology=f"A {DRAFT_WORD}: spindle cells.",
        ihc=[("ALK", "positive")],
        fusions=["CARS1::ALK"],
    )
    return cases


def case_ids(response) -> list[int]:
    """The case numbers of a search page's results, in order."""
    return [case.pk for case in response.context["cases"]]
