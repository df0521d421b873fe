"""The Citation model and store_article: one row per PMID, DOIs unique and lower-case."""

import threading
from pathlib import Path

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_save

from citations import actions
from citations.models import Author, Citation
from citations.pubmed import ParsedArticle, ParsedAuthor, iter_records

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


def all_recorded():
    return [
        record
        for path in sorted(FIXTURES.glob("pubmed*.xml"))
        for record in iter_records(path)
        if isinstance(record, ParsedArticle)
    ]


@pytest.mark.django_db
def test_a_batch_of_articles_is_stored_in_a_fixed_number_of_queries(
    django_assert_max_num_queries,
):
    records = all_recorded()
    assert len(records) == 9
    with django_assert_max_num_queries(10):  # not 7 per article: the batch at once
        outcomes = actions.store_articles(records)
    assert {pmid: (o.created, o.error) for pmid, o in outcomes.items()} == {
        r.pmid: (True, "") for r in records
    }
    assert Citation.objects.count() == 9
    stored = Citation.objects.get(pmid=29963580)
    assert outcomes[29963580].citation_id == stored.pk
    assert stored.authors.count() == 9
    record = next(r for r in records if r.pmid == 29963580)
    assert list(stored.authors.order_by("position").values_list("last_name", flat=True)) == [
        author.last_name for author in record.authors
    ]
    assert stored.raw_xml == record.raw_xml
    assert stored.title == record.title  # sanitised once, by the parser, not again


@pytest.mark.django_db
def test_a_batch_stored_again_updates_every_row_and_replaces_the_authors():
    actions.store_articles(all_recorded())
    Citation.objects.update(
        title="stale",
        fetch_status=Citation.FetchStatus.REFRESH_FAILED,
        fetch_error="NCBI had a server error",
    )
    records = all_recorded()
    records[0].authors = records[0].authors[:1]
    outcomes = actions.store_articles(records)
    assert {o.created for o in outcomes.values()} == {False}
    assert Citation.objects.count() == 9
    assert not Citation.objects.filter(title="stale").exists()
    assert set(Citation.objects.values_list("fetch_status", "fetch_error")) == {("fetched", "")}
    assert Citation.objects.get(pmid=records[0].pmid).authors.count() == 1
    assert Author.objects.count() == sum(len(r.authors) for r in records)


@pytest.mark.django_db
def test_a_doi_another_pmid_holds_is_left_out_with_a_note_and_the_batch_kept():
    actions.store_article(founding())
    duplicate = founding()
    duplicate.pmid = 99
    twin = founding()
    twin.pmid, twin.doi = 100, "10.5555/twin"
    twin_copy = founding()
    twin_copy.pmid, twin_copy.doi = 101, "10.5555/TWIN"
    outcomes = actions.store_articles([duplicate, twin, twin_copy])
    assert outcomes[99].note == (
        "Stored without its DOI 10.1111/cup.14261: PubMed gives that DOI to PMID 35560368 too."
    )
    assert outcomes[101].note.endswith("to PMID 100 too.")
    assert (outcomes[100].note, outcomes[100].error) == ("", "")
    assert dict(Citation.objects.values_list("pmid", "doi")) == {
        35560368: "10.1111/cup.14261",
        99: "",
        100: "10.5555/twin",
        101: "",
    }


@pytest.mark.django_db
def test_an_article_the_database_refuses_fails_alone_with_no_partial_row():
    good = founding()
    bad = founding()
    bad.pmid, bad.doi = 77, ""
    bad.authors = [ParsedAuthor(fore_name="Nameless")]  # breaks citations_author_has_name
    outcomes = actions.store_articles([good, bad])
    assert outcomes[77].error.startswith("PMID 77 could not be stored: IntegrityError")
    assert outcomes[77].citation_id is None
    assert (outcomes[35560368].created, outcomes[35560368].error) == (True, "")
    assert list(Citation.objects.values_list("pmid", flat=True)) == [35560368]
    assert Author.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_storing_overlapping_batches_at_once_leave_one_row_each(postgres):
    """Two PostgreSQL connections upsert the same nine PMIDs, released by a barrier."""
    barrier = threading.Barrier(2)
    results, errors = [], []

    def store(reverse):
        try:
            records = all_recorded()
            if reverse:
                records.reverse()  # rows are still locked in PMID order: no deadlock
            barrier.wait(timeout=10)
            results.append(actions.store_articles(records))
        except Exception as exc:  # reported below, not swallowed
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=store, args=(n == 1,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for pmid in results[0]:
        # Exactly one of the two inserted each PMID; the other updated it.
        assert sorted(r[pmid].created for r in results) == [False, True]
    assert Citation.objects.count() == 9
    assert Author.objects.count() == sum(len(r.authors) for r in all_recorded())


@pytest.mark.django_db(transaction=True)
def test_two_workers_whose_batches_cross_on_dois_both_finish(postgres):
    """PubMed's rare duplicate DOIs across PMIDs, stored by two workers at once.

    Worker A stores PMIDs 1 (DOI X) and 3 (DOI Y), worker B stores 2 (DOI Y)
    and 4 (DOI X): each can end up waiting on the other's DOI, which
    PostgreSQL ends as a deadlock. The losing batch must be run again, not
    lost: every PMID is stored and each DOI has one owner.
    """
    import dataclasses

    base = founding()
    for round_ in range(5):
        x, y = f"10.5555/cross.{round_}.x", f"10.5555/cross.{round_}.y"
        first = 1000 + 10 * round_
        batch_a = [
            dataclasses.replace(base, pmid=first + 1, doi=x),
            dataclasses.replace(base, pmid=first + 3, doi=y),
        ]
        batch_b = [
            dataclasses.replace(base, pmid=first + 2, doi=y),
            dataclasses.replace(base, pmid=first + 4, doi=x),
        ]
        barrier = threading.Barrier(2)
        results, errors = [], []

        def store(batch, barrier=barrier, results=results, errors=errors):
            try:
                barrier.wait(timeout=10)
                results.append(actions.store_articles(batch))
            except Exception as exc:  # reported below, not swallowed
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=store, args=(b,)) for b in (batch_a, batch_b)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        outcomes = {pmid: o for r in results for pmid, o in r.items()}
        assert all(not o.error for o in outcomes.values()), outcomes
        stored = Citation.objects.filter(pmid__in=range(first + 1, first + 5))
        assert stored.count() == 4
        assert stored.filter(doi=x).count() == 1
        assert stored.filter(doi=y).count() == 1


@pytest.mark.django_db
def test_a_batch_stored_sends_post_save_for_each_row_as_save_would():
    seen = []

    def receiver(sender, instance, created, **kwargs):
        seen.append((instance.pmid, instance.pk, created))

    post_save.connect(receiver, sender=Citation, dispatch_uid="test-batch-post-save")
    try:
        actions.store_article(founding())
        seen.clear()
        records = all_recorded()
        actions.store_articles(records)
    finally:
        post_save.disconnect(sender=Citation, dispatch_uid="test-batch-post-save")
    ids = dict(Citation.objects.values_list("pmid", "pk"))
    assert sorted(seen) == sorted((pmid, ids[pmid], pmid != 35560368) for pmid in ids)
