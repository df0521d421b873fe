"""Rows written straight into a model's table: COPY on PostgreSQL, INSERT elsewhere.

For a generator of millions of rows (generate_synthetic): no model instances,
no save(), no signals. A `Table` reads the model's columns once, from its
fields: the values a generator gives per row ("varying"), the values it fixes
for every row of the run, and for every other column the value Django would
write for a new object (the field's default, or the current time for auto_now
/ auto_now_add), prepared once by the field for the database. A field added to
the model later with a default is thus filled without touching the generator;
a NOT NULL field without one stops the run at once with its name, not a failed
COPY halfway through. A column with a database default (db_default) is left
out, so the database fills it.

A parent table's primary keys are given by the generator: a `Writer` reserves
them in bulk (from the table's sequence on PostgreSQL) so that child rows can
name their parents before anything is written. A table whose auto-incremented
key is not among the varying columns gets its keys from the database as it
writes.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence
from decimal import Decimal
from operator import itemgetter

from django.db import models

# Field types whose varying values go to the database as the generator gives
# them (an int, a str, a bool; an int or a Decimal for a DecimalField, which
# both PostgreSQL and Django's SQLite take as they are): preparing each of
# millions of values through its field would cost as much as making them.
# Other types (datetimes, JSON...) are prepared by their field for the database.
AS_IS = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "BigIntegerField",
        "IntegerField",
        "SmallIntegerField",
        "PositiveBigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "BooleanField",
        "CharField",
        "TextField",
        "DecimalField",
    }
)


class Table:
    """A model's table as a generator writes it: `row()` makes the full column tuple."""

    def __init__(
        self,
        model: type[models.Model],
        varying: Sequence[str],
        connection,
        *,
        fixed: Mapping[str, object] | None = None,
        now: dt.datetime,
    ):
        fixed = dict(fixed or {})
        meta = model._meta

        def written(f) -> bool:
            if getattr(f, "generated", False):
                return False
            if f.attname in varying or f.attname in fixed:
                return True
            # The database fills a column with a database default, and an
            # auto-incremented key the generator leaves to it.
            return not f.has_db_default() and not (f.primary_key and f.db_returning)

        fields = [f for f in meta.concrete_fields if written(f)]
        by_name = {f.attname: f for f in fields}
        unknown = (set(varying) | set(fixed)) - set(by_name)
        if unknown:
            raise ValueError(f"{meta.label} has no column {', '.join(sorted(unknown))}")
        self.model = model
        self.name = meta.db_table
        self.pk_column = meta.pk.column
        self.columns = [f.column for f in fields]
        self.width = len(varying)
        self.preps = [
            (index, _prep(by_name[name], connection))
            for index, name in enumerate(varying)
            if not _as_is(by_name[name])
        ]
        constants = []
        for f in fields:
            if f.attname in varying:
                continue
            value = fixed[f.attname] if f.attname in fixed else _new_value(f, now)
            if value is None and not f.null:
                raise ValueError(
                    f"{meta.label}.{f.name} is NOT NULL and has no default: "
                    "the generator must give it a value"
                )
            constants.append(f.get_db_prep_save(value, connection))
        self.constants = tuple(constants)
        # A row is picked from (*varying values, *constants), in column order.
        constant_index = iter(range(self.width, self.width + len(constants)))
        varying_index = {name: index for index, name in enumerate(varying)}
        order = [
            varying_index[f.attname] if f.attname in varying_index else next(constant_index)
            for f in fields
        ]
        self.arrange = _picker(order)
        self.varying_of = _picker([order.index(index) for index in range(self.width)])

    def row(self, values: Sequence) -> tuple:
        """Every column's value, from the varying ones (in the order given to the Table)."""
        if len(values) != self.width:
            raise ValueError(f"{self.name}: {len(values)} values for {self.width} columns")
        if self.preps:
            values = list(values)
            for index, prep in self.preps:
                values[index] = prep(values[index])
        return self.arrange((*values, *self.constants))


def _picker(indexes: list[int]):
    """A function taking the items at `indexes` of a sequence, as a tuple."""
    if len(indexes) == 1:
        (index,) = indexes
        return lambda sequence: (sequence[index],)
    return itemgetter(*indexes)


def _as_is(field) -> bool:
    target = field.target_field if field.is_relation else field
    return target.get_internal_type() in AS_IS


def _new_value(field, now: dt.datetime):
    """What Django would write in this column for a new object given no value."""
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now.date() if field.get_internal_type() == "DateField" else now
    return field.get_default()


def _prep(field, connection):
    def prep(value):
        return field.get_db_prep_save(value, connection)

    return prep


# -- the writers -------------------------------------------------------------------


class Writer:
    """Rows of a Table into the database, inside the caller's transaction."""

    def __init__(self, connection):
        self.connection = connection

    def reserve_ids(self, table: Table, count: int) -> list[int]:
        raise NotImplementedError

    def write(self, table: Table, rows: Sequence[Sequence]) -> None:
        raise NotImplementedError

    def _columns(self, table: Table) -> str:
        quote = self.connection.ops.quote_name
        return ", ".join(quote(column) for column in table.columns)


class CopyWriter(Writer):
    """PostgreSQL: COPY ... FROM STDIN in the text format; ids from the tables' sequences.

    Triggers fire on COPY as on INSERT (the cases' search_vector is filled).
    """

    def __init__(self, connection):
        super().__init__(connection)
        self._constants: dict[Table, tuple[str, ...]] = {}

    def reserve_ids(self, table: Table, count: int) -> list[int]:
        if not count:
            return []
        with self.connection.cursor() as cursor:
            # nextval() for every id rather than setval() to a block: another
            # session may take ids meanwhile; these are ours whatever it does.
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [self.connection.ops.quote_name(table.name), table.pk_column, count],
            )
            return [pk for (pk,) in cursor.fetchall()]

    def write(self, table: Table, rows: Sequence[Sequence]) -> None:
        if not rows:
            return
        # The constant columns are rendered once per table, the varying ones per row.
        constants = self._constants.get(table)
        if constants is None:
            constants = self._constants[table] = tuple(map(copy_text, table.constants))
        varying_of, arrange = table.varying_of, table.arrange
        text = "".join(
            [
                "\t".join(arrange((*map(copy_text, varying_of(row)), *constants))) + "\n"
                for row in rows
            ]
        )
        name = self.connection.ops.quote_name(table.name)
        with self.connection.cursor() as cursor:
            cursor.copy_expert(
                f"COPY {name} ({self._columns(table)}) FROM STDIN", io.StringIO(text)
            )


class InsertWriter(Writer):
    """Any other database (SQLite): one INSERT executed for many rows; ids after the largest.

    SQLite lets one connection write at a time, and the ids are taken inside the
    writing transaction; an AUTOINCREMENT table's counter follows the largest
    id inserted, so later inserts get fresh ids.
    """

    def reserve_ids(self, table: Table, count: int) -> list[int]:
        quote = self.connection.ops.quote_name
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT MAX({quote(table.pk_column)}) FROM {quote(table.name)}")  # noqa: S608
            (largest,) = cursor.fetchone()
        start = (largest or 0) + 1
        return list(range(start, start + count))

    def write(self, table: Table, rows: Sequence[Sequence]) -> None:
        if not rows:
            return
        placeholders = ", ".join(["%s"] * len(table.columns))
        sql = (
            f"INSERT INTO {self.connection.ops.quote_name(table.name)} "  # noqa: S608
            f"({self._columns(table)}) VALUES ({placeholders})"
        )
        with self.connection.cursor() as cursor:
            cursor.executemany(sql, rows)


def writer_for(connection) -> Writer:
    return (
        CopyWriter(connection) if connection.vendor == "postgresql" else InsertWriter(connection)
    )


# -- COPY's text format ------------------------------------------------------------


def copy_text(value) -> str:
    """A value as COPY's text format writes it: NULL as \\N; backslash, tab, newline and
    carriage return escaped (the only characters it gives a meaning)."""
    if value is None:
        return "\\N"
    kind = type(value)
    if kind is str:
        return _escape(value)
    if kind is int or kind is Decimal:
        return str(value)
    if kind is bool:
        return "t" if value else "f"
    if isinstance(value, dt.date):  # datetimes too; aware ones carry their offset
        return value.isoformat()
    if hasattr(value, "adapted") and hasattr(value, "dumps"):
        # psycopg2's Json adapter, what JSONField gives for PostgreSQL: its JSON text.
        return _escape(value.dumps(value.adapted))
    if isinstance(value, str):  # a choice (TextChoices member)
        return _escape(str(value))
    if isinstance(value, int):  # an IntegerChoices member (bool was matched above)
        return str(int(value))
    raise TypeError(f"no COPY text for {kind.__name__} {value!r}")


def _escape(text: str) -> str:
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    if "\t" in text:
        text = text.replace("\t", "\\t")
    if "\n" in text:
        text = text.replace("\n", "\\n")
    if "\r" in text:
        text = text.replace("\r", "\\r")
    return text
