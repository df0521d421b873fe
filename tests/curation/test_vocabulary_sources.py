"""The shipped vocabulary files against the reference lists they were checked with.

No database: the JSON files (curation/vocabularies) are read as shipped and
compared with tests/reference/icdo32_morphology_extract.csv (ICD-O-3.2) and
the HGNC download of 2016 in the shared reference folder.
"""

import csv
import gzip
import re
from pathlib import Path

import pytest

from curation.symbols import AMBIGUOUS, GeneRecord, SymbolIndex
from curation.vocabularies import read, walk_diagnoses

ROOT = Path(__file__).resolve().parents[2]
ICDO_EXTRACT = ROOT / "tests" / "reference" / "icdo32_morphology_extract.csv"
HGNC_2016 = ROOT.parent / "shared" / "reference" / "hgnc-2016.tsv.gz"
ICDO_CODE = re.compile(r"^[0-9]{4}/[012369]$")


def fold(text: str) -> str:
    return " ".join(text.split()).casefold()


@pytest.fixture(scope="module")
def diagnoses():
    return [entry for _, _, entry, _ in walk_diagnoses()]


@pytest.fixture(scope="module")
def icdo_terms():
    terms: dict[str, set[str]] = {}
    with ICDO_EXTRACT.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            terms.setdefault(row["ICDO3.2"], set()).add(row["Term"])
    return terms


@pytest.fixture(scope="module")
def hgnc_2016():
    if not HGNC_2016.exists():
        pytest.fail(f"the HGNC reference file is missing: {HGNC_2016}")
    genes = {}
    with gzip.open(HGNC_2016, "rt", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            split = [s.strip() for s in row["Previous Symbols"].split(",") if s.strip()]
            aliases = [s.strip() for s in row["Synonyms"].split(",") if s.strip()]
            genes[row["HGNC ID"]] = (row["Approved Symbol"], split, aliases)
    return genes


def test_every_vocabulary_file_names_its_code_system_version_and_sources():
    for name in ("diagnosis", "topography", "gene", "marker"):
        source = read(name)["source"]
        assert source["code_system"] and source["version"]
        assert source["sources"] and all(s["name"] for s in source["sources"])
    assert read("diagnosis")["source"]["code_system"] == "ICD-O-3.2"


def test_every_icd_o_code_has_the_dddd_b_form_with_a_valid_behaviour(diagnoses):
    codes = [d["code"] for d in diagnoses if d["code"]]
    assert len(codes) > 250
    bad = [c for c in codes if not ICDO_CODE.match(c)]
    assert not bad


def test_every_icd_o_code_is_in_icd_o_3_2_with_the_term_it_names(diagnoses, icdo_terms):
    wrong = []
    for entry in diagnoses:
        if not entry["code"]:
            assert entry.get("code_note"), f"{entry['name']}: no code and no reason"
            continue
        quoted = re.search(r"“(.+)”", entry["code_source"]).group(1)
        if entry["code"] not in icdo_terms or quoted not in icdo_terms[entry["code"]]:
            wrong.append((entry["name"], entry["code"], quoted))
    assert not wrong


def test_the_wrong_codes_of_earlier_versions_are_not_shipped(diagnoses):
    codes = {d["name"]: d["code"] for d in diagnoses}
    assert codes["atypical fibroxanthoma"] == "8830/1"
    assert codes["dermatofibrosarcoma protuberans"] == "8832/1"
    assert codes["nodular fasciitis"] == "8828/0"


def test_no_diagnosis_name_resolves_to_two_entries(diagnoses):
    owner: dict[str, str] = {}
    clashes = []
    for entry in diagnoses:
        for name in {fold(n) for n in [entry["name"], *entry["synonyms"], *entry["older_names"]]}:
            if name in owner:
                clashes.append((name, owner[name], entry["name"]))
            owner[name] = entry["name"]
    assert not clashes
    # A search term is never also a name some diagnosis resolves to.
    terms = {fold(t) for entry in diagnoses for t in entry["search_terms"]}
    assert not terms & set(owner)


def test_no_marker_name_resolves_to_two_markers():
    owner: dict[str, str] = {}
    clashes = []
    for marker in read("marker")["markers"]:
        for name in {fold(n) for n in [marker["name"], *marker["synonyms"]]}:
            if name in owner:
                clashes.append((name, owner[name], marker["name"]))
            owner[name] = marker["name"]
    assert not clashes
    assert len(owner) and len(read("marker")["markers"]) >= 120


def test_markers_name_a_shipped_gene_with_the_check_behind_the_link():
    genes = {g["symbol"] for g in read("gene")["genes"]}
    for marker in read("marker")["markers"]:
        if marker["gene"]:
            assert marker["gene"] in genes, marker["name"]
            assert marker["gene_source"].startswith("HGNC"), marker["name"]
        for clone in marker["clones"]:
            assert clone["source"], (marker["name"], clone["name"])


def test_every_gene_is_in_the_2016_hgnc_file_under_its_symbol_or_a_previous_one(hgnc_2016):
    genes = read("gene")["genes"]
    assert len(genes) >= 300
    approved = [g["symbol"].upper() for g in genes]
    assert len(approved) == len(set(approved)), "an approved symbol names two genes"
    problems = []
    for gene in genes:
        if gene["hgnc_id"] not in hgnc_2016:
            problems.append(f"{gene['symbol']}: {gene['hgnc_id']} not in the 2016 file")
            continue
        symbol_2016 = hgnc_2016[gene["hgnc_id"]][0]
        if symbol_2016 != gene["symbol"] and symbol_2016 not in gene["previous_symbols"]:
            problems.append(f"{gene['symbol']}: its 2016 symbol {symbol_2016} is not recorded")
    assert not problems


def test_every_2016_symbol_of_a_gene_resolves_to_it_or_is_reported_ambiguous(hgnc_2016):
    genes = read("gene")["genes"]
    index = SymbolIndex(
        GeneRecord(
            g["hgnc_id"],
            g["symbol"],
            g["name"],
            tuple(g["previous_symbols"]),
            tuple(g["alias_symbols"]),
        )
        for g in genes
    )
    approved = {g["symbol"].upper(): g["hgnc_id"] for g in genes}
    silently_wrong = []
    for gene in genes:
        symbol_2016, previous, aliases = hgnc_2016[gene["hgnc_id"]]
        for written in {symbol_2016, *previous, *aliases}:
            found = index.resolve(written)
            if found.status == AMBIGUOUS:
                assert gene["hgnc_id"] in {c.hgnc_id for c in found.candidates}, written
                continue
            if found.gene and found.gene.hgnc_id == gene["hgnc_id"]:
                continue
            # Only another gene's own approved symbol may win (HGNC's rule: an approved
            # symbol is that gene), and then the message says nothing was guessed.
            if approved.get(written.upper()) == (found.gene.hgnc_id if found.gene else None):
                continue
            silently_wrong.append((written, gene["symbol"], found.status))
    assert not silently_wrong


@pytest.mark.parametrize(
    ("written", "expected"),
    [("NPM", "NPM1"), ("CLTCL2", "CLTC"), ("MIC2", "CD99"), ("CARS", "CARS1"), ("MKL2", "MRTFB")],
)
def test_spellings_of_older_papers_resolve_to_the_current_symbol(written, expected):
    genes = read("gene")["genes"]
    index = SymbolIndex(
        GeneRecord(
            g["hgnc_id"], g["symbol"], "", tuple(g["previous_symbols"]), tuple(g["alias_symbols"])
        )
        for g in genes
    )
    assert index.resolve(written).gene.symbol == expected
