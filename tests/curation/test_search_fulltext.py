"""Full text: ranking and the trigger-kept document (PostgreSQL), the fallback (SQLite)."""

from django.db import connection
from django.urls import reverse

from curation.models import Case
from tests.curation.searchdata import case_ids
from tests.factories import CitationFactory, make_published_case

URL = reverse("curation:search")


def _case(title, abstract="", **fields):
    citation = CitationFactory(
        title=title, abstract=[{"label": "", "category": "", "text": abstract}] if abstract else []
    )
    return make_published_case(citation=citation, **fields)


def test_a_title_hit_ranks_above_an_abstract_hit(client, postgres):
    in_abstract = _case("A cutaneous tumour", "The lesion was myxoid throughout.")
    in_title = _case("A myxoid cutaneous tumour", "A nodule of the arm.")
    neither = _case("Another tumour", "Nothing to see.")
    # Created last, so newest: without ranking it would come first.
    also_abstract = _case("Yet another tumour", "Myxoid stroma.")
    found = case_ids(client.get(URL, {"q": "myxoid"}))
    assert found[0] == in_title.pk
    assert set(found) == {in_title.pk, in_abstract.pk, also_abstract.pk}
    assert neither.pk not in found


def test_case_text_ranks_between_title_and_abstract(client, postgres):
    in_abstract = _case("Case one", "Storiform areas were seen.")
    in_histology = _case("Case two", "", histology="A storiform spindle cell proliferation.")
    in_title = _case("A storiform tumour", "")
    assert case_ids(client.get(URL, {"q": "storiform"})) == [
        in_title.pk,
        in_histology.pk,
        in_abstract.pk,
    ]


def test_websearch_syntax_phrases_or_and_exclusion_work(client, postgres):
    fascicles = _case("Spindle cells in fascicles", "")
    storiform = _case("Spindle cells storiform", "")
    assert case_ids(client.get(URL, {"q": "spindle -storiform"})) == [fascicles.pk]
    assert set(case_ids(client.get(URL, {"q": "fascicles or storiform"}))) == {
        fascicles.pk,
        storiform.pk,
    }
    assert case_ids(client.get(URL, {"q": '"cells storiform"'})) == [storiform.pk]


def test_stemming_finds_plural_and_singular(client, postgres):
    case = _case("Nodules of the scalp", "")
    assert case_ids(client.get(URL, {"q": "nodule"})) == [case.pk]


def test_the_document_follows_edits_of_the_case_and_its_citation(client, postgres):
    case = _case("A plain title", "")
    assert case_ids(client.get(URL, {"q": "glomangioma"})) == []
    case.notes = "Compare glomangioma."
    case.save()
    assert case_ids(client.get(URL, {"q": "glomangioma"})) == [case.pk]
    citation = case.citation
    citation.title = "A haemangioendothelioma"
    citation.save()
    assert case_ids(client.get(URL, {"q": "haemangioendothelioma"})) == [case.pk]
    citation.abstract = [{"label": "", "category": "", "text": "Xanthogranulomatous change."}]
    citation.save()
    assert case_ids(client.get(URL, {"q": "xanthogranulomatous"})) == [case.pk]
    # A bulk update (no save(), no signal) is covered too: the trigger is in the database.
    Case.objects.filter(pk=case.pk).update(histology="Rhabdoid cells.")
    assert case_ids(client.get(URL, {"q": "rhabdoid"})) == [case.pk]


def test_the_search_uses_the_gin_index(postgres):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'curation_case_search_gin'"
        )
        (definition,) = cursor.fetchone()
        assert "USING gin (search_vector)" in definition
        # With sequential scans discouraged (a tiny test table), the planner picks it.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT id FROM curation_case "
            "WHERE search_vector @@ websearch_to_tsquery('english', 'scalp')"
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "curation_case_search_gin" in plan


def test_the_fallback_finds_words_in_the_same_fields(client, db):
    """Runs on either database: the interface is the same."""
    by_title = _case("Plexiform fibrohistiocytic tumour", "")
    by_abstract = _case("A case", "A plexiform pattern was seen.")
    by_site = _case("Another case", "", site_detail="plexiform area of the thigh")
    other = _case("Unrelated", "")
    found = set(case_ids(client.get(URL, {"q": "plexiform"})))
    assert found == {by_title.pk, by_abstract.pk, by_site.pk}
    assert other.pk not in found
    assert case_ids(client.get(URL, {"q": "plexiform -thigh fibrohistiocytic"})) == [by_title.pk]


def test_the_vector_is_filled_by_postgresql_and_left_empty_on_sqlite(client, db):
    case = _case("Angiomatoid tumour", "")
    vector = Case.objects.get(pk=case.pk).search_vector
    if connection.vendor == "postgresql":
        assert "angiomatoid" in vector
    else:
        assert vector is None
    assert case_ids(client.get(URL, {"q": "angiomatoid"})) == [case.pk]
