"""import_hgnc FILE: load HGNC's complete set (hgnc_complete_set.txt) into the gene vocabulary."""

import csv
import re
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction

from curation.models import Gene, GeneSymbol
from curation.models.vocabulary import symbol_rows
from curation.symbols import check_symbol

REQUIRED = ("hgnc_id", "symbol", "name", "status", "prev_symbol", "alias_symbol")
HGNC_ID = re.compile(r"^HGNC:[0-9]+$")
BATCH = 1000
SHOW_ERRORS = 10


def _split(value: str) -> list[str]:
    """HGNC lists: "CARS|CYSRS", sometimes quoted; empty -> []."""
    value = (value or "").strip().strip('"')
    out = []
    for part in value.split("|"):
        part = part.strip().strip('"')
        if part and part not in out:
            out.append(part)
    return out


def is_own_rename(current: str, values: dict) -> bool:
    """May a gene stored as `current` take the file's symbol? Only if it is the same
    symbol or HGNC lists `current` among the new symbol's previous symbols: a gene is
    never renamed to another gene's symbol because of a wrong ID."""
    if current.upper() == values["symbol"].upper():
        return True
    return current.upper() in {s.upper() for s in values["previous_symbols"]}


class Command(BaseCommand):
    help = (
        "Load HGNC's complete-set TSV (columns hgnc_id, symbol, name, status, prev_symbol, "
        "alias_symbol; lists separated by |). Approved genes are added or updated by HGNC ID "
        "(else by symbol); other genes are left as they are. All or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE")

    def handle(self, *args, file, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        csv.field_size_limit(min(sys.maxsize, 10_000_000))
        try:
            with path.open(encoding="utf-8", newline="") as handle:
                rows, skipped, errors = self._read(handle)
        except UnicodeDecodeError as exc:
            raise CommandError(f"{file} is not UTF-8 text ({exc.reason}).") from None
        except csv.Error as exc:
            raise CommandError(f"{file} is not a readable TSV file: {exc}") from None
        for error in errors[:SHOW_ERRORS]:
            self.stderr.write(error)
        if len(errors) > SHOW_ERRORS:
            self.stderr.write(f"... and {len(errors) - SHOW_ERRORS} more rows with errors")
        try:
            created, updated, unchanged, conflicts = self._store(rows)
        except IntegrityError as exc:
            raise CommandError(
                f"Nothing was imported: the file conflicts with a gene: {exc}"
            ) from exc
        for conflict in conflicts[:SHOW_ERRORS]:
            self.stderr.write(conflict)
        if len(conflicts) > SHOW_ERRORS:
            self.stderr.write(f"... and {len(conflicts) - SHOW_ERRORS} more conflicts")
        self.stdout.write(
            f"genes: new {created}, updated {updated}, unchanged {unchanged}, "
            f"not approved {skipped}, rows with errors {len(errors)}, conflicts {len(conflicts)}"
        )

    def _read(self, handle):
        reader = csv.DictReader(handle, delimiter="\t")
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise CommandError(
                f"Not an HGNC complete-set file: missing column(s) {', '.join(missing)} "
                "(expected a tab-separated header with " + ", ".join(REQUIRED) + ")."
            )
        rows: dict[str, dict] = {}
        seen_symbols: set[str] = set()
        skipped, errors = 0, []
        for line, row in enumerate(reader, start=2):
            status = (row.get("status") or "").strip()
            if status != "Approved":
                skipped += 1
                continue
            hgnc_id = (row.get("hgnc_id") or "").strip()
            symbol, problem = check_symbol(row.get("symbol") or "")
            name = (row.get("name") or "").strip()
            if not HGNC_ID.match(hgnc_id):
                problem = f"“{hgnc_id[:30]}” is not an HGNC ID"
            elif len(name) > 300:
                problem = "the name is longer than 300 characters"
            elif not problem and symbol.upper() in seen_symbols:
                problem = f"symbol {symbol} appears twice"
            elif hgnc_id in rows:
                problem = f"{hgnc_id} appears twice"
            if problem:
                errors.append(f"line {line}: {problem}; row skipped")
                continue
            seen_symbols.add(symbol.upper())
            rows[hgnc_id] = {
                "hgnc_id": hgnc_id,
                "symbol": symbol,
                "name": name,
                "previous_symbols": _split(row.get("prev_symbol")),
                "alias_symbols": _split(row.get("alias_symbol")),
            }
        return rows, skipped, errors

    @transaction.atomic
    def _store(self, rows: dict[str, dict]):
        by_id = {g.hgnc_id: g for g in Gene.objects.exclude(hgnc_id="")}
        by_symbol = {g.symbol.upper(): g for g in Gene.objects.all()}
        fields = ["hgnc_id", "symbol", "name", "previous_symbols", "alias_symbols"]
        to_create, to_update, conflicts = [], [], []
        # The HGNC ID is a gene's identity; a symbol match only fills in (or
        # corrects) the ID of a gene no other row of the file has claimed.
        claimed = {by_id[hgnc_id].pk for hgnc_id in rows if hgnc_id in by_id}
        for values in rows.values():
            gene = by_id.get(values["hgnc_id"])
            if gene is None:
                candidate = by_symbol.get(values["symbol"].upper())
                if candidate is not None and candidate.pk not in claimed:
                    gene = candidate
                    claimed.add(gene.pk)
            if gene is None:
                to_create.append(Gene(**values))
                continue
            if not is_own_rename(gene.symbol, values):
                conflicts.append(
                    f"{values['hgnc_id']}: RareDerm has it as {gene.symbol}, the file as "
                    f"{values['symbol']}, whose previous symbols do not include {gene.symbol}; "
                    "row not imported (check the gene's HGNC ID)"
                )
                continue
            if all(getattr(gene, f) == values[f] for f in fields):
                continue
            for f in fields:
                setattr(gene, f, values[f])
            to_update.append(gene)
        # Bulk writes skip Gene.save(), so the lookup rows are rebuilt below.
        # Updates first: a renamed gene frees its old symbol for a new one.
        Gene.objects.bulk_update(to_update, fields, batch_size=BATCH)
        Gene.objects.bulk_create(to_create, batch_size=BATCH)
        touched = [g.pk for g in to_update] + list(
            Gene.objects.filter(hgnc_id__in=[g.hgnc_id for g in to_create]).values_list(
                "pk", flat=True
            )
        )
        for start in range(0, len(touched), BATCH):
            chunk = touched[start : start + BATCH]
            GeneSymbol.objects.filter(gene_id__in=chunk).delete()
            lookup = []
            for gene in Gene.objects.filter(pk__in=chunk):
                lookup.extend(symbol_rows(GeneSymbol, gene))
            GeneSymbol.objects.bulk_create(lookup, batch_size=BATCH)
        unchanged = len(rows) - len(to_create) - len(to_update) - len(conflicts)
        return len(to_create), len(to_update), unchanged, conflicts
