"""Gene symbols as written in papers, resolved to HGNC approved symbols.

Plain Python, no Django: the resolver works on an in-memory `SymbolIndex`
(built from `GeneRecord`s) so that it can be unit-tested without a database.
The database-backed wrapper (curation.models.vocabulary.resolve_symbol) asks
the database for the few candidates of one symbol and hands them to
`choose()`, the same decision function the index uses.

The rule (issues 4 and 13): an approved symbol wins; else a symbol that is the
previous symbol of exactly one gene and nobody else's alias; else the alias
of exactly one gene. Anything else is not guessed: the curator is told and
chooses (OI4, a previous symbol of one collagen gene and an alias of another,
is never silently one of them). So `CARS`
(the previous symbol of CARS1) resolves to CARS1 and never to CARS2, and
`SEC31L1` to SEC31A.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

# Longest HGNC symbol is well under 30 characters; anything much longer is
# not a symbol (a pasted sentence), and is refused before any lookup.
MAX_SYMBOL_LENGTH = 40
# HGNC symbols: letters, digits, hyphen, underscore, and (in old symbols)
# "@" and "." — e.g. "HLA-A", "C11orf95", "IGH@".
_SYMBOL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$")
# Dash-like characters papers and word processors put into symbols ("HLA\u2010A").
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d"), "-")

APPROVED = "approved"
PREVIOUS = "previous"
ALIAS = "alias"
AMBIGUOUS = "ambiguous"
UNKNOWN = "unknown"
INVALID = "invalid"


@dataclass(frozen=True)
class GeneRecord:
    hgnc_id: str
    symbol: str
    name: str = ""
    previous_symbols: tuple[str, ...] = ()
    alias_symbols: tuple[str, ...] = ()


@dataclass(frozen=True)
class Resolution:
    """The answer for one symbol: `gene` is set only when it is certain."""

    query: str
    status: str
    gene: GeneRecord | None = None
    candidates: tuple[GeneRecord, ...] = field(default=())
    message: str = ""

    @property
    def resolved(self) -> bool:
        return self.gene is not None


def normalise_symbol(text: str) -> str:
    """The text a curator typed, tidied: NFKC, Unicode dashes to "-", trimmed."""
    if not isinstance(text, str):
        return ""
    return unicodedata.normalize("NFKC", text).translate(_DASHES).strip()


def symbol_key(symbol: str) -> str:
    """The lookup key: HGNC symbols are unique regardless of letter case."""
    return normalise_symbol(symbol).upper()


def check_symbol(text: str) -> tuple[str, str]:
    """(normalised symbol, error message); the message is "" when it is usable."""
    symbol = normalise_symbol(text)
    if not symbol:
        return symbol, "Enter a gene symbol."
    if len(symbol) > MAX_SYMBOL_LENGTH:
        return symbol, (
            f"“{symbol[:20]}…” is {len(symbol)} characters long; a gene symbol has at most "
            f"{MAX_SYMBOL_LENGTH}."
        )
    if not _SYMBOL_RE.match(symbol):
        return symbol, (
            f"“{symbol}” is not a gene symbol: use letters, digits and hyphens (e.g. CARS1)."
        )
    return symbol, ""


def choose(
    query: str,
    approved: Iterable[GeneRecord],
    previous: Iterable[GeneRecord],
    aliases: Iterable[GeneRecord],
) -> Resolution:
    """Decide among the genes whose approved / previous / alias symbol matches `query`."""
    approved = _unique(approved)
    previous = _unique(previous)
    aliases = _unique(aliases)
    if len(approved) == 1:
        return Resolution(query, APPROVED, approved[0], tuple(approved))
    if len(approved) > 1:  # cannot happen with HGNC data; refuse rather than pick one
        return _ambiguous(query, approved, "the approved symbol")
    others = [a for a in aliases if a not in previous]
    if len(previous) == 1 and others:
        names = ", ".join(g.symbol for g in [*previous, *others])
        return Resolution(
            query,
            AMBIGUOUS,
            candidates=(*previous, *others),
            message=f"{query} is a previous symbol of {previous[0].symbol} and an alias of "
            f"{', '.join(g.symbol for g in others)} ({names}); choose the one the paper means.",
        )
    if len(previous) == 1:
        gene = previous[0]
        return Resolution(
            query,
            PREVIOUS,
            gene,
            (gene,),
            f"{query} is a previous symbol of {gene.symbol}; recorded as {gene.symbol}.",
        )
    if len(previous) > 1:
        return _ambiguous(query, previous, "a previous symbol")
    if len(aliases) == 1:
        gene = aliases[0]
        return Resolution(
            query,
            ALIAS,
            gene,
            (gene,),
            f"{query} is an alias of {gene.symbol}; recorded as {gene.symbol}.",
        )
    if len(aliases) > 1:
        return _ambiguous(query, aliases, "an alias")
    return Resolution(
        query,
        UNKNOWN,
        message=f"{query} is not a known HGNC gene symbol, previous symbol or alias.",
    )


def _unique(records: Iterable[GeneRecord]) -> list[GeneRecord]:
    seen: dict[str, GeneRecord] = {}
    for record in records:
        seen.setdefault(record.hgnc_id or record.symbol, record)
    return sorted(seen.values(), key=lambda r: r.symbol)


def _ambiguous(query: str, genes: list[GeneRecord], what: str) -> Resolution:
    names = ", ".join(g.symbol for g in genes)
    return Resolution(
        query,
        AMBIGUOUS,
        candidates=tuple(genes),
        message=f"{query} is {what} of several genes ({names}); choose the one the paper means.",
    )


class SymbolIndex:
    """All symbols of a set of genes, for resolving without a database."""

    def __init__(self, records: Iterable[GeneRecord] = ()):
        self._approved: dict[str, list[GeneRecord]] = {}
        self._previous: dict[str, list[GeneRecord]] = {}
        self._aliases: dict[str, list[GeneRecord]] = {}
        self._count = 0
        for record in records:
            self.add(record)

    def __len__(self) -> int:
        return self._count

    def add(self, record: GeneRecord) -> None:
        self._count += 1
        self._approved.setdefault(symbol_key(record.symbol), []).append(record)
        for prev in record.previous_symbols:
            if prev.strip():
                self._previous.setdefault(symbol_key(prev), []).append(record)
        for alias in record.alias_symbols:
            if alias.strip():
                self._aliases.setdefault(symbol_key(alias), []).append(record)

    def is_known(self, text: str) -> bool:
        key = symbol_key(text)
        return key in self._approved or key in self._previous or key in self._aliases

    def resolve(self, text: str) -> Resolution:
        symbol, error = check_symbol(text)
        if error:
            return Resolution(symbol[:MAX_SYMBOL_LENGTH], INVALID, message=error)
        key = symbol.upper()
        return choose(
            symbol,
            self._approved.get(key, ()),
            self._previous.get(key, ()),
            self._aliases.get(key, ()),
        )
