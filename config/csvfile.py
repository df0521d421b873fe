"""The one CSV writer: every CSV file RareDerm writes goes through csv_lines.

A file is UTF-8 with a byte-order mark (spreadsheets then read accents right)
and is produced line by line, so a download of any size streams. Every cell is
guarded by spreadsheet_safe, OWASP's rule against CSV injection
(https://owasp.org/www-community/attacks/CSV_Injection): a cell that starts
with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with a single
quote, so no spreadsheet runs it as a formula. The price is that a negative
number reads as text; RareDerm's CSV columns hold none.
"""

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from django.http import StreamingHttpResponse

from config.errors import require_database

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> str:
    """The cell's text, prefixed with ' where a spreadsheet would run it as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


class _Echo:
    """A file-like object whose write returns the line (csv.writer into a generator)."""

    def write(self, value: str) -> str:
        return value


def csv_lines(
    header: Iterable[str], rows: Iterable[Iterable[Any]], *, delimiter: str = ",", bom: bool = True
) -> Iterator[str]:
    """The BOM, the header line, then one guarded line per row, as they are needed.

    delimiter="\t", bom=False gives the tab-separated files of a release (for
    programs rather than spreadsheets), with the same quoting and formula guard.
    """
    writer = csv.writer(_Echo(), delimiter=delimiter)
    if bom:
        yield BOM
    yield writer.writerow(list(header))
    for row in rows:
        yield writer.writerow([spreadsheet_safe(value) for value in row])


def streamed_download(chunks: Iterable[str], content_type: str, filename: str):
    """A download streamed chunk by chunk, once the database has answered.

    The check comes first because a 200 cannot be taken back: with the
    database down the user gets the 503 page, not a file cut short.
    """
    require_database()
    response = StreamingHttpResponse(chunks, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_download(lines: Iterable[str], filename: str) -> StreamingHttpResponse:
    """A streamed attachment of csv_lines' output."""
    return streamed_download(lines, "text/csv; charset=utf-8", filename)
