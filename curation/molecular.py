"""Molecular findings without Django: test methods, HGVS forms, RefSeq ids, evidence grade.

One place for each rule the case form, the actions, the API and the bulk
import share:

- `METHODS`: the controlled list of test methods, each with the evidence
  class it supports (sequencing, FISH / RT-PCR and other non-sequencing
  molecular tests, an IHC surrogate);
- `parse_protein` / `parse_cdna`: the *form* of an HGVS description (HGVS
  nomenclature, varnomen.hgvs.org, version 21.0: `p.` with three-letter amino
  acids and `Ter`, `c.` with `>`, `del`, `dup`, `ins`, `delins`, intronic
  offsets and positions upstream of the coding sequence such as c.-124C>T),
  normalised to the recommended spelling; the reference sequence itself is
  not checked (no network, no sequence data);
- `REFSEQ_TRANSCRIPT`: the form of a RefSeq transcript accession (NCBI RefSeq
  prefixes, https://www.ncbi.nlm.nih.gov/books/NBK21091/table/ch18.T.refseq_accession_numbers_and_mole/:
  NM_/NR_ curated, XM_/XR_ predicted), with an optional version;
- `supported_grade`: the evidence grade the findings support.

The one gene-specific example of the module and the forms, BRAF c.1799T>A p.Val600Glu on
NM_004333.6 (the MANE Select transcript), is ClinVar variation 13961 / COSMIC COSM476.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# -- methods ---------------------------------------------------------------------

SEQUENCING = "sequencing"
MOLECULAR = "molecular"  # FISH, RT-PCR and other molecular tests that are not sequencing
SURROGATE = "ihc_surrogate"
UNSPECIFIED = "unspecified"


@dataclass(frozen=True)
class Method:
    code: str
    label: str
    evidence: str


METHODS: tuple[Method, ...] = (
    Method("targeted_rna_panel", "Targeted RNA sequencing panel", SEQUENCING),
    Method("anchored_multiplex_pcr", "Anchored multiplex PCR (targeted RNA NGS)", SEQUENCING),
    Method("whole_transcriptome", "Whole-transcriptome sequencing", SEQUENCING),
    Method("rna_seq", "RNA sequencing, not specified", SEQUENCING),
    Method("dna_panel", "Targeted DNA sequencing panel", SEQUENCING),
    Method("wes_wgs", "Whole-exome or whole-genome sequencing", SEQUENCING),
    Method("dna_ngs", "DNA sequencing (NGS), not specified", SEQUENCING),
    Method("sanger", "Sanger sequencing", SEQUENCING),
    Method("fish_break_apart", "FISH (break-apart probe)", MOLECULAR),
    Method("fish_fusion", "FISH (dual-fusion probe)", MOLECULAR),
    Method("fish_copy_number", "FISH (amplification / deletion probe)", MOLECULAR),
    Method("rt_pcr", "RT-PCR", MOLECULAR),
    Method("pcr", "PCR (DNA, allele-specific or fragment analysis)", MOLECULAR),
    Method("copy_number_array", "Copy-number array (aCGH / SNP array)", MOLECULAR),
    Method("methylation_array", "DNA methylation array", MOLECULAR),
    Method("ihc_surrogate", "IHC surrogate (a stain read as the molecular finding)", SURROGATE),
    Method("other", "Other (see assay as reported)", UNSPECIFIED),
)
METHOD_CHOICES = [(m.code, m.label) for m in METHODS]
METHOD_EVIDENCE = {m.code: m.evidence for m in METHODS}

# -- evidence grade --------------------------------------------------------------

GRADES = ("A", "B", "C", "D")
GRADE_CHOICES = [
    ("A", "A — the defining molecular finding by sequencing"),
    ("B", "B — by FISH, RT-PCR or another molecular test"),
    ("C", "C — defined by immunohistochemistry"),
    ("D", "D — morphology only"),
]
GRADE_LABELS = dict(GRADE_CHOICES)
IHC_RESULTS_THAT_COUNT = frozenset({"positive", "negative", "equivocal"})


def supported_grade(finding_methods: Iterable[str], ihc_results: Iterable[str]) -> str:
    """The best grade the findings support.

    A: any molecular finding by a sequencing method; B: by FISH, RT-PCR or another
    molecular test; C: an IHC surrogate finding, or any IHC result reported
    (positive, negative, equivocal); D: none of these. A finding whose method is
    not recorded, or "other", supports nothing beyond what the rest supports.
    """
    evidence = {METHOD_EVIDENCE.get(m, UNSPECIFIED) for m in finding_methods}
    if SEQUENCING in evidence:
        return "A"
    if MOLECULAR in evidence:
        return "B"
    if SURROGATE in evidence or IHC_RESULTS_THAT_COUNT.intersection(ihc_results):
        return "C"
    return "D"


def effective_grade(supported: str, lowered_to: str = "") -> str:
    """The grade a case shows: the supported one, or lower if a curator lowered it."""
    if lowered_to in GRADES and lowered_to > supported:
        return lowered_to
    return supported


def lowering_error(supported: str, lowered_to: str) -> str:
    """Why `lowered_to` cannot be the case's grade ("" when it can, or is empty)."""
    if not lowered_to:
        return ""
    if lowered_to not in GRADES:
        return "Choose a grade from A to D."
    if lowered_to < supported:
        return (
            f"The findings support grade {supported} at most: a grade can be lowered, "
            f"never raised above what the findings show."
        )
    return ""


# -- HGVS ------------------------------------------------------------------------

AMINO_ACIDS = {
    "A": "Ala",
    "R": "Arg",
    "N": "Asn",
    "D": "Asp",
    "C": "Cys",
    "Q": "Gln",
    "E": "Glu",
    "G": "Gly",
    "H": "His",
    "I": "Ile",
    "L": "Leu",
    "K": "Lys",
    "M": "Met",
    "F": "Phe",
    "P": "Pro",
    "S": "Ser",
    "T": "Thr",
    "W": "Trp",
    "Y": "Tyr",
    "V": "Val",
    "U": "Sec",
    "O": "Pyl",
    "*": "Ter",
    "X": "Ter",
}
THREE_TO_ONE = {three.casefold(): one for one, three in AMINO_ACIDS.items() if one != "X"}

_AA3 = "|".join(sorted(set(AMINO_ACIDS.values()), key=len, reverse=True))
_AA = rf"(?:{_AA3}|[ARNDCQEGHILKMFPSTWYVUO*X])"
_POS = r"[1-9][0-9]{0,5}"
_PROTEIN = re.compile(
    rf"""^(?P<start>{_AA})(?P<start_pos>{_POS})
    (?:_(?P<end>{_AA})(?P<end_pos>{_POS}))?
    (?P<change>
        delins(?P<delins>{_AA}+)
      | del
      | dup
      | ins(?P<ins>{_AA}+)
      | fs(?:(?:Ter|\*|X)(?P<fs_stop>[1-9][0-9]{{0,4}}|\?))?
      | ext(?:Ter|\*)?[0-9?]*
      | =
      | (?P<to>{_AA})(?:fs(?:(?:Ter|\*|X)(?P<fs_stop2>[1-9][0-9]{{0,4}}|\?))?)?
    )$""",
    re.IGNORECASE | re.VERBOSE,
)

_CPOS = r"(?:[-*]?[1-9][0-9]{0,6}(?:[+-][1-9][0-9]{0,5})?)"
_CDNA = re.compile(
    rf"""^(?P<start>{_CPOS})(?:_(?P<end>{_CPOS}))?
    (?P<change>
        (?P<ref>[ACGT])>(?P<alt>[ACGT])
      | delins[ACGT]+
      | del[ACGT]*
      | dup[ACGT]*
      | ins[ACGT]+
      | inv
    )$""",
    re.IGNORECASE | re.VERBOSE,
)


class HGVSError(ValueError):
    """A description that is not an HGVS form; the message says what to type."""


def _aa3(token: str) -> str:
    if len(token) == 1:
        return AMINO_ACIDS[token.upper()]
    return AMINO_ACIDS[THREE_TO_ONE[token.casefold()]]


def _aa_run(text: str) -> str:
    tokens = re.findall(rf"{_AA}", text, re.IGNORECASE)
    return "".join(_aa3(t) for t in tokens)


def parse_protein(text: str) -> str:
    """`V600E`, `p.V600E`, `p.(Val600Glu)` → `p.Val600Glu` (HGVS, three-letter code).

    Predicted consequences keep their parentheses: `p.(V600E)` → `p.(Val600Glu)`.
    Raises HGVSError with what to type instead.
    """
    raw = " ".join(str(text).split())
    if not raw:
        raise HGVSError("Write the protein change, e.g. p.V600E or p.(Val600Glu).")
    body = raw[2:] if raw[:2].lower() == "p." else raw
    predicted = body.startswith("(") and body.endswith(")")
    if predicted:
        body = body[1:-1]
    match = _PROTEIN.match(body.replace(" ", ""))
    if match is None:
        raise HGVSError(
            f"“{raw}” is not an HGVS protein change: write it as p.V600E, p.(Val600Glu), "
            "p.Glu746_Ala750del or p.Leu858ArgfsTer5."
        )
    g = match.groupdict()
    out = f"{_aa3(g['start'])}{g['start_pos']}"
    if g["end"]:
        if int(g["end_pos"]) <= int(g["start_pos"]):
            raise HGVSError(f"“{raw}”: a range ends after it starts (e.g. p.Glu746_Ala750del).")
        out += f"_{_aa3(g['end'])}{g['end_pos']}"
    change = g["change"]
    if g["delins"]:
        out += "delins" + _aa_run(g["delins"])
    elif g["ins"]:
        out += "ins" + _aa_run(g["ins"])
    elif g["to"]:
        out += _aa3(g["to"])
        stop = g["fs_stop2"]
        if "fs" in change.lower():
            out += "fs" + (f"Ter{stop}" if stop else "")
    elif change.lower().startswith("fs"):
        out += "fs" + (f"Ter{g['fs_stop']}" if g["fs_stop"] else "")
    elif change.lower() in ("del", "dup"):
        out += change.lower()
    elif change == "=":
        out += "="
    else:
        out += change
    return f"p.({out})" if predicted else f"p.{out}"


def protein_short(hgvs_p: str) -> str:
    """`p.Val600Glu` → `p.V600E` (the one-letter form papers and pages use)."""
    if not hgvs_p:
        return ""

    def one(match: re.Match) -> str:
        return THREE_TO_ONE.get(match.group(0).casefold(), match.group(0))

    return re.sub(rf"(?:{_AA3})", one, hgvs_p)


def parse_cdna(text: str) -> str:
    """`c.1799t>a` → `c.1799T>A`; `c.-124C>T`, `c.35_36delinsAA`, `c.1234+1G>A` kept in form.

    Raises HGVSError with what to type instead.
    """
    raw = " ".join(str(text).split())
    if not raw:
        raise HGVSError("Write the cDNA change, e.g. c.1799T>A.")
    body = raw[2:] if raw[:2].lower() == "c." else raw
    match = _CDNA.match(body.replace(" ", ""))
    if match is None:
        raise HGVSError(
            f"“{raw}” is not an HGVS cDNA change: write it as c.1799T>A, c.-124C>T, "
            "c.2235_2249del or c.1234+1G>A."
        )
    g = match.groupdict()
    if g["ref"] and g["ref"].upper() == g["alt"].upper():
        raise HGVSError(f"“{raw}”: a substitution changes the base (c.1799T>A, not T>T).")
    change = g["change"]
    change = re.sub(r"[acgt]+$", lambda m: m.group(0).upper(), change)
    change = re.sub(r"^([a-z]+)", lambda m: m.group(0).lower(), change)
    if g["ref"]:
        change = f"{g['ref'].upper()}>{g['alt'].upper()}"
    position = g["start"] + (f"_{g['end']}" if g["end"] else "")
    return f"c.{position}{change}"


REFSEQ_TRANSCRIPT = re.compile(r"^(?:NM|NR|XM|XR)_[0-9]{6,9}(?:\.[0-9]{1,3})?$")


def transcript_error(text: str) -> str:
    """Why `text` is not a RefSeq transcript id ("" when it is one, or empty)."""
    if not text or REFSEQ_TRANSCRIPT.match(text):
        return ""
    return (
        f"“{text}” is not a RefSeq transcript: write it as NM_ (or NR_, XM_, XR_), "
        "digits and a version, e.g. NM_004333.6."
    )
