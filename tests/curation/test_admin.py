"""The Django admin of curation models: lists, search and filters work for an admin."""

import pytest
from django.urls import reverse

from tests.factories import make_published_case

pytestmark = pytest.mark.django_db

MODELS = [
    "case",
    "ihcresult",
    "fusionfinding",
    "caseevent",
    "diagnosis",
    "topography",
    "gene",
    "genesymbol",
    "marker",
]


@pytest.mark.parametrize("model", MODELS)
def test_every_curation_model_has_a_searchable_admin_list(client, admin, model):
    make_published_case()
    client.force_login(admin)
    url = reverse(f"admin:curation_{model}_changelist")
    assert client.get(url).status_code == 200
    assert client.get(url, {"q": "ALK"}).status_code == 200


def test_the_case_admin_filters_by_status_and_opens_a_case_with_its_rows(client, admin):
    case = make_published_case(fusions=["CARS1::ALK"])
    client.force_login(admin)
    listing = client.get(reverse("admin:curation_case_changelist"), {"status__exact": "draft"})
    assert listing.context["cl"].result_count == 0
    listing = client.get(reverse("admin:curation_case_changelist"), {"status__exact": "published"})
    assert listing.context["cl"].result_count == 1
    page = client.get(reverse("admin:curation_case_change", args=[case.pk]))
    assert page.status_code == 200
    assert "CARS1" in page.content.decode()
    history = client.get(reverse("admin:curation_case_history", args=[case.pk]))
    assert history.status_code == 200


def test_a_gene_can_be_found_in_the_admin_by_its_previous_symbol(client, admin):
    client.force_login(admin)
    listing = client.get(reverse("admin:curation_gene_changelist"), {"q": "CARS"})
    assert "CARS1" in {g.symbol for g in listing.context["cl"].result_list}


def test_the_event_log_is_read_only(client, admin):
    client.force_login(admin)
    assert client.get(reverse("admin:curation_caseevent_add")).status_code == 403
