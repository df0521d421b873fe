"""manage.py add_family_searches (curation.family_searches): one disabled saved search per
diagnosis family, its query built from the vocabulary's own names, asked of PubMed (the
fake E-utilities server) first; run twice, it adds nothing."""

from io import StringIO

import pytest
from django.core.management import call_command

from citations.models import SavedSearch
from curation.family_searches import family_query
from curation.models import Diagnosis, DiagnosisFamily

pytestmark = pytest.mark.django_db


def test_each_family_gets_a_disabled_search_from_its_own_names(fake_eutils):
    family = DiagnosisFamily.objects.filter(diagnoses__isnull=False).order_by("pk").first()
    assert family is not None, "the vocabulary's data migration ships families"
    diagnosis = Diagnosis.objects.filter(family=family).order_by("pk").first()
    out = StringIO()
    call_command("add_family_searches", stdout=out)
    search = SavedSearch.objects.get(name=f"Family: {family.name}")
    assert search.enabled is False
    assert f'"{diagnosis.name}"[tiab]' in search.query
    for synonym in diagnosis.synonyms:
        assert f'"{" ".join(synonym.replace(chr(34), " ").split())}"[tiab]' in search.query
    assert search.query.endswith('AND (skin[tiab] OR cutaneous[tiab] OR "Skin Neoplasms"[mh])')
    assert search.query == family_query(family)
    added = SavedSearch.objects.count()
    assert fake_eutils.count("esearch") == added  # every query was asked of PubMed
    assert f"{added} added" in out.getvalue()
    call_command("add_family_searches", stdout=StringIO())
    assert SavedSearch.objects.count() == added  # run twice: nothing new


def test_a_family_query_pubmed_rejects_is_reported_not_saved(fake_eutils):
    family = DiagnosisFamily.objects.filter(diagnoses__isnull=False).order_by("pk").first()
    fake_eutils.reject(family_query(family))
    err = StringIO()
    call_command("add_family_searches", stdout=StringIO(), stderr=err)
    assert f"refused: Family: {family.name}: PubMed rejected the query" in err.getvalue()
    assert not SavedSearch.objects.filter(name=f"Family: {family.name}").exists()
