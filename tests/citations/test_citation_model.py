"""The Citation model and store_article: one row per PMID, DOIs unique and lower-case."""

import threading
from pathlib import Path

import pytest
from django.db import IntegrityError, connection, transaction

from citations import actions
from citations.models import Author, Citation
from citations.pubmed import iter_records

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "entrez"


def founding():
    return next(iter_records(FIXTURES / "pubmed_35560368.xml"))


@pytest.mark.django_db
def test_storing_an_article_twice_leaves_one_row_with_its_authors_once():
    first, created = actions.store_article(founding())
    assert created is True
    record = founding()
    record.title = "Corrected title."
    second, created = actions.store_article(record)
    assert created is False
    assert second.pk == first.pk
    assert Citation.objects.count() == 1
    assert Citation.objects.get().title == "Corrected title."
    assert Author.objects.count() == 1
    assert str(second) == "PMID 35560368"
    assert str(second.authors.get()) == "McCollum KJ"


@pytest.mark.django_db
def test_a_doi_is_unique_and_lower_case_but_empty_dois_do_not_clash():
    Citation.objects.create(pmid=1, doi="")
    Citation.objects.create(pmid=2, doi="")
    Citation.objects.create(pmid=3, doi="10.1000/ABC")  # save() lower-cases
    assert Citation.objects.get(pmid=3).doi == "10.1000/abc"
    with pytest.raises(IntegrityError), transaction.atomic():
        Citation.objects.filter(pmid=3).update(doi="10.1000/ABC")
    with pytest.raises(IntegrityError), transaction.atomic():
        Citation.objects.create(pmid=4, doi="10.1000/abc")
    with pytest.raises(IntegrityError), transaction.atomic():
        Citation.objects.create(pmid=3)


@pytest.mark.django_db
def test_a_second_pmid_claiming_a_stored_doi_is_kept_without_it():
    actions.store_article(founding())
    duplicate = founding()
    duplicate.pmid = 99
    citation, created = actions.store_article(duplicate)
    assert created is True
    assert citation.doi == ""
    assert Citation.objects.get(pmid=35560368).doi == "10.1111/cup.14261"


@pytest.mark.django_db
def test_an_author_needs_a_name():
    citation = Citation.objects.create(pmid=5)
    with pytest.raises(IntegrityError), transaction.atomic():
        Author.objects.create(citation=citation, position=0)


@pytest.mark.django_db
def test_overlong_pubmed_values_are_cut_to_fit_not_refused():
    record = founding()
    record.volume = "9" * 300
    citation, _ = actions.store_article(record)
    citation.refresh_from_db()
    assert len(citation.volume) == 100
    assert citation.volume.endswith("…")


@pytest.mark.django_db(transaction=True)
def test_two_workers_storing_the_same_pmid_at_once_leave_one_row(postgres):
    """Two threads, two PostgreSQL connections, released together by a barrier."""
    barrier = threading.Barrier(2)
    results, errors = [], []

    def store(title):
        try:
            record = founding()
            record.title = title
            barrier.wait(timeout=10)
            results.append(actions.store_article(record)[1])
        except Exception as exc:  # reported below, not swallowed
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=store, args=(f"Title {n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == [False, True]  # one inserted, the other updated
    assert Citation.objects.filter(pmid=35560368).count() == 1
    assert Author.objects.filter(citation__pmid=35560368).count() == 1
