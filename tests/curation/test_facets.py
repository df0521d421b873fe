"""Facet counts: computed in the database, combined across facets, published cases only."""

import pytest
from django.urls import reverse

from tests.curation.searchdata import build_registry, case_ids

URL = reverse("curation:search")


@pytest.fixture
def registry(db):
    return build_registry()


def counts(response, facet):
    return {v.label: v.count for v in response.context["facets"][facet].values}


def test_every_facet_counts_the_published_cases(client, registry):
    response = client.get(URL)
    assert counts(response, "dx") == {
        "inflammatory myofibroblastic tumor": 3,
        "dermatofibrosarcoma protuberans": 1,
        "spindle cell melanoma": 1,
    }
    assert counts(response, "site") == {"Skin (C44)": 4, "Soft tissue (C49)": 1}
    skin = response.context["facets"]["site"].values[0]
    assert {c.value: c.count for c in skin.children} == {
        "C44.3": 1,
        "C44.4": 1,
        "C44.5": 1,
        "C44.6": 1,
    }
    assert counts(response, "five") == {"CARS1": 1, "TPM3": 1, "COL1A1": 1}
    assert counts(response, "three") == {"ALK": 3, "PDGFB": 1}
    ihc = counts(response, "ihc")
    assert ihc["ALK positive"] == 3 and ihc["ALK negative"] == 1
    assert ihc["S100 negative"] == 2 and ihc["S100 positive"] == 1
    assert counts(response, "sex") == {"Female": 3, "Male": 2}
    assert counts(response, "age") == {
        "0\u20139 years": 2,  # 8 years and 18 months
        "20\u201339 years": 1,
        "40\u201359 years": 1,
        "60\u201379 years": 1,
    }
    assert counts(response, "year") == {"2022": 1, "2021": 1, "2020": 1, "2019": 2}
    assert counts(response, "outcome") == {
        "No evidence of disease": 2,
        "Alive with disease": 1,
        "Died of disease": 1,
    }
    assert {v.value: v.count for v in response.context["facets"]["grade"].values} == {
        "A": 3,
        "B": 1,
        "C": 1,
    }
    assert counts(response, "event") == {
        "Local recurrence": 1,
        "Distant metastasis": 1,
        "Death of disease": 1,
    }
    assert counts(response, "treatment") == {"Wide local excision": 1}
    assert counts(response, "finding") == {"Fusion": 4, "Copy-number change": 1}
    assert counts(response, "method") == {
        "RNA sequencing, not specified": 3,
        "FISH (break-apart probe)": 1,
        "FISH (amplification / deletion probe)": 1,
    }
    assert counts(response, "source") == {"Abstract only": 1, "Full text": 1}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"site": "C49"}, {"dfsp"}),
        ({"site": "C44.4"}, {"scalp_imt"}),
        ({"ihc": "S100:negative"}, {"scalp_imt", "dfsp"}),
        ({"sex": "male"}, {"trunk_imt", "dfsp"}),
        ({"age": "0-9"}, {"trunk_imt", "infant"}),
        ({"age": "60-79"}, {"melanoma"}),
        ({"year": "2019"}, {"trunk_imt", "infant"}),
        ({"outcome": "dod"}, {"melanoma"}),
        ({"event": "distant_metastasis"}, {"melanoma"}),
        ({"event": ["local_recurrence", "distant_metastasis"]}, {"trunk_imt", "melanoma"}),
        ({"grade": "B"}, {"infant"}),
        ({"grade": ["a", "C"]}, {"scalp_imt", "trunk_imt", "dfsp", "melanoma"}),
        ({"source": "abstract"}, {"infant"}),
        ({"finding": "copy_number"}, {"dfsp"}),
        ({"finding": "fusion", "method": "fish_break_apart"}, {"infant"}),
        ({"method": "fish_copy_number"}, {"dfsp"}),
        ({"treatment": "wide_local_excision"}, {"trunk_imt"}),
        ({"five": "TPM3"}, {"trunk_imt"}),
        ({"three": "PDGFB"}, {"dfsp"}),
    ],
)
def test_each_facet_filters_the_results(client, registry, query, expected):
    assert set(case_ids(client.get(URL, query))) == {registry[n].pk for n in expected}


def test_the_diagnosis_facet_filters_by_id(client, registry):
    dx = registry["dfsp"].final_diagnosis_id
    assert case_ids(client.get(URL, {"dx": dx})) == [registry["dfsp"].pk]


def test_values_of_one_facet_combine_with_or_and_facets_with_and(client, registry):
    either = client.get(URL, {"outcome": ["ned", "dod"]})
    assert set(case_ids(either)) == {registry[n].pk for n in ("scalp_imt", "dfsp", "melanoma")}
    both = client.get(URL, {"outcome": ["ned", "dod"], "sex": "female"})
    assert set(case_ids(both)) == {registry[n].pk for n in ("scalp_imt", "melanoma")}
    narrowed = client.get(URL, {"site": "C44", "ihc": ["ALK:positive", "SMA:positive"]})
    assert case_ids(narrowed) == [registry["scalp_imt"].pk]


def test_counts_update_as_filters_combine(client, registry):
    response = client.get(URL, {"sex": "female"})
    # Other facets count only female cases...
    assert counts(response, "dx") == {
        "inflammatory myofibroblastic tumor": 2,
        "spindle cell melanoma": 1,
    }
    assert counts(response, "three") == {"ALK": 2}
    # ...while the sex facet still offers the other value, with its own count.
    assert counts(response, "sex") == {"Female": 3, "Male": 2}
    selected = [v.label for v in response.context["facets"]["sex"].values if v.selected]
    assert selected == ["Female"]
    response = client.get(URL, {"sex": "female", "ihc": "ALK:positive"})
    assert counts(response, "age") == {"0\u20139 years": 1, "20\u201339 years": 1}
    assert counts(response, "ihc")["ALK positive"] == 2


def test_a_facet_link_toggles_its_value(client, registry):
    response = client.get(URL, {"sex": "female"})
    female = next(v for v in response.context["facets"]["sex"].values if v.label == "Female")
    assert "sex=female" not in female.link
    male = next(v for v in response.context["facets"]["sex"].values if v.label == "Male")
    assert "sex=female" in male.link and "sex=male" in male.link


def test_counts_follow_the_search_text(client, registry):
    response = client.get(URL, {"q": "fascicles"})
    # The factory's histology ("spindle cells in fascicles") is in the three IMT cases.
    assert counts(response, "dx") == {"inflammatory myofibroblastic tumor": 3}
    assert counts(response, "sex") == {"Female": 2, "Male": 1}
    assert counts(response, "three") == {"ALK": 3}
    response = client.get(URL, {"q": "fascicles", "sex": "male"})
    assert counts(response, "dx") == {"inflammatory myofibroblastic tumor": 1}
    assert counts(response, "sex") == {"Female": 2, "Male": 1}


def test_an_ihc_filter_ignores_the_case_of_the_marker_name(client, registry):
    found = set(case_ids(client.get(URL, {"ihc": "s100:NEGATIVE"})))
    assert found == {registry["scalp_imt"].pk, registry["dfsp"].pk}
    response = client.get(URL, {"ihc": "NOSUCHMARKER:positive"})
    assert "“nosuchmarker” is not a marker RareDerm knows; ignored." in response.content.decode()


def test_skin_bearing_sites_outside_c44_are_facet_groups_that_filter(client, registry):
    from tests.factories import make_published_case, topography

    vulva = make_published_case(topography=topography("C51.0"))
    response = client.get(URL)
    groups = {v.value: v for v in response.context["facets"]["site"].values}
    assert groups["C51"].label == "Vulva (C51)" and groups["C51"].count == 1
    assert case_ids(client.get(URL, {"site": "C51"})) == [vulva.pk]
    assert case_ids(client.get(URL, {"site": "C51.0"})) == [vulva.pk]


def test_a_selected_ihc_value_typed_in_another_case_is_removed_by_its_link(client, registry):
    response = client.get(URL, {"ihc": "s100:negative"})
    s100 = next(v for v in response.context["facets"]["ihc"].values if v.label == "S100 negative")
    assert s100.selected
    assert "ihc=" not in s100.link  # it was added a second time ("S100:negative") before
