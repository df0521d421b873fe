"""Gene-fusion notation as papers write it, parsed into 5' and 3' partners.

Plain Python, no Django. Papers write the same fusion many ways — `CARS-ALK`,
`CARS/ALK`, `CARS1\u2013ALK` (an en dash), `CARS1::ALK` (the HGNC notation, Bruford
et al. 2021) — and sometimes know only one partner (a break-apart FISH:
`ALK rearrangement`). `parse_fusion` turns any of these into a
`FusionNotation`; it does not resolve symbols (curation.symbols does), but it
can use a symbol check to split names that themselves contain a hyphen
(`NKX2-1-ALK`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from curation.symbols import check_symbol, normalise_symbol

MAX_NOTATION_LENGTH = 200
UNKNOWN_PARTNER = "?"
HGNC_SEPARATOR = "::"

# Words around a fusion that are not part of it ("CARS-ALK fusion").
_TRAILING = re.compile(r"\s+(gene\s+)?(fusion|fusions|fusion\s+gene|fusion\s+transcript)$", re.I)
# One known gene, partner unknown: "ALK rearrangement", "ALK-rearranged", "ALK break-apart".
_REARRANGED = re.compile(
    r"^(?P<gene>\S+?)[\s-]+(rearrangement|rearranged|rearrangements|break-?apart|"
    r"translocation|translocated)$",
    re.I,
)


class NotationError(ValueError):
    """The text is not a fusion this parser understands; the message says why."""


@dataclass(frozen=True)
class FusionNotation:
    five_prime: str | None  # None: the partner is unknown
    three_prime: str
    written: str  # what the paper wrote, trimmed

    @property
    def partner_unknown(self) -> bool:
        return self.five_prime is None

    @property
    def hgnc(self) -> str:
        return format_fusion(self.five_prime, self.three_prime)


def format_fusion(five_prime: str | None, three_prime: str) -> str:
    """HGNC notation `CARS1::ALK`; `?::ALK` when the 5' partner is unknown."""
    return f"{five_prime or UNKNOWN_PARTNER}{HGNC_SEPARATOR}{three_prime}"


def parse_fusion(text: str, is_symbol: Callable[[str], bool] | None = None) -> FusionNotation:
    """Parse one fusion as written; raise NotationError with a clear message.

    `is_symbol` (optional) says whether a string is a known gene symbol; it is
    used only to split a hyphen-written fusion whose genes contain hyphens.
    """
    if not isinstance(text, str):
        raise NotationError("Enter a fusion, e.g. CARS1::ALK.")
    if len(text) > MAX_NOTATION_LENGTH:
        raise NotationError(
            f"That is {len(text)} characters long; a fusion is written like CARS1::ALK "
            f"(at most {MAX_NOTATION_LENGTH} characters)."
        )
    # Unicode dashes become "-"; the HGNC "::" is kept as is.
    written = normalise_symbol(text)
    written = re.sub(r"\s+", " ", written)
    if not written:
        raise NotationError("Enter a fusion, e.g. CARS1::ALK.")
    core = _TRAILING.sub("", written).strip()

    rearranged = _REARRANGED.match(core)
    if rearranged:
        return FusionNotation(None, _symbol(rearranged.group("gene"), "gene"), written)

    if HGNC_SEPARATOR in core:
        parts = [p.strip() for p in core.split(HGNC_SEPARATOR)]
        if len(parts) != 2:
            raise NotationError(
                f"“{core}” names more than two partners; record one fusion as 5'::3'."
            )
        return _from_parts(parts[0], parts[1], written)

    for separator in ("/", ":"):
        if separator in core:
            parts = [p.strip() for p in core.split(separator)]
            if len(parts) != 2:
                raise NotationError(
                    f"“{core}” names more than two partners; record one fusion as 5'::3'."
                )
            return _from_parts(parts[0], parts[1], written)

    if "-" in core:
        return _split_hyphenated(core.replace(" ", ""), written, is_symbol)

    raise NotationError(
        f"“{core}” is not a fusion: write both partners, 5' first, e.g. CARS1::ALK, "
        "or “ALK rearrangement” when the partner is unknown."
    )


def _from_parts(five: str, three: str, written: str) -> FusionNotation:
    if not five and not three:
        raise NotationError("Both partners are missing: write e.g. CARS1::ALK.")
    if not three:
        raise NotationError(
            f"The 3' partner after {five} is missing. If only one gene is known, record it as "
            f"the 3' gene: ?::{five} (or “{five} rearrangement”)."
        )
    if not five:
        raise NotationError(f"The 5' partner before {three} is missing: write ?::{three}.")
    if three == UNKNOWN_PARTNER:
        raise NotationError(
            f"Record the known gene as the 3' partner: ?::{five}, or “{five} rearrangement”."
        )
    if five == UNKNOWN_PARTNER:
        return FusionNotation(None, _symbol(three, "3' partner"), written)
    return FusionNotation(_symbol(five, "5' partner"), _symbol(three, "3' partner"), written)


def _split_hyphenated(
    core: str, written: str, is_symbol: Callable[[str], bool] | None
) -> FusionNotation:
    pieces = core.split("-")
    if len(pieces) == 2:
        return _from_parts(pieces[0], pieces[1], written)
    # More than one hyphen: a gene name contains one (NKX2-1-ALK). Only a
    # known-symbol check can say where the fusion splits; never guess.
    splits = [
        ("-".join(pieces[:i]), "-".join(pieces[i:]))
        for i in range(1, len(pieces))
        if all(pieces[:i]) and all(pieces[i:])
    ]
    if is_symbol is not None:
        known = [(a, b) for a, b in splits if is_symbol(a) and is_symbol(b)]
        if len(known) == 1:
            return _from_parts(*known[0], written)
    raise NotationError(
        f"“{core}” has several hyphens, so where one gene ends is unclear: "
        "write it as 5'::3', e.g. NKX2-1::ALK."
    )


def _symbol(text: str, role: str) -> str:
    symbol, error = check_symbol(text)
    if error:
        raise NotationError(f"The {role}: {error}")
    return symbol
