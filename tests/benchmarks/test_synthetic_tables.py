"""curation/synthetic/tables.py: rows written straight into a model's table (COPY or INSERT)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from citations.models import Citation
from curation.models import IHCResult
from curation.synthetic.tables import Table, copy_text, writer_for


def test_copy_text_escapes_what_the_copy_format_gives_a_meaning_to():
    assert copy_text(None) == "\\N"
    assert copy_text("a\tb\nc\rd\\e") == "a\\tb\\nc\\rd\\\\e"
    assert copy_text("\\N") == "\\\\N"  # the text \N, not NULL
    assert copy_text(True) == "t" and copy_text(False) == "f"
    assert copy_text(12) == "12" and copy_text(Decimal("7.5")) == "7.5"
    moment = dt.datetime(2020, 2, 3, 4, 5, 6, tzinfo=dt.UTC)
    assert copy_text(moment) == "2020-02-03T04:05:06+00:00"
    with pytest.raises(TypeError):
        copy_text(object())


@pytest.mark.django_db
def test_awkward_text_and_json_come_back_from_the_database_as_written():
    table = Table(
        Citation, ["id", "pmid", "title", "abstract", "year"], connection, now=timezone.now()
    )
    writer = writer_for(connection)
    title = "Tab\there, a new\nline, a back\\slash, \\N, quotes ' \" and ünïcode ∆"
    abstract = [{"label": "a\tb", "text": "back\\slash, \\n, tab\t and\r\nnewline"}]
    (pk,) = writer.reserve_ids(table, 1)

    with transaction.atomic():
        writer.write(table, [table.row((pk, 900_000_777, title, abstract, None))])

    citation = Citation.objects.get(pk=pk)
    assert citation.title == title
    assert citation.abstract == abstract
    assert citation.year is None
    # Columns not given hold the model's defaults.
    assert citation.keywords == [] and citation.authors_complete is True
    assert citation.fetch_status == Citation.FetchStatus.FETCHED
    assert citation.created_at is not None


def test_a_not_null_column_with_no_default_left_out_stops_the_table_at_once():
    with pytest.raises(ValueError, match=r"IHCResult\.marker is NOT NULL and has no default"):
        Table(IHCResult, ["case_id", "result"], connection, now=timezone.now())


def test_a_row_with_the_wrong_number_of_values_is_refused():
    table = Table(IHCResult, ["case_id", "marker_id", "result"], connection, now=timezone.now())
    with pytest.raises(ValueError, match="2 values for 3 columns"):
        table.row((1, 2))
