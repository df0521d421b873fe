"""manage.py import_hgnc FILE."""

import pytest
from django.core.management import CommandError, call_command

from curation.models import Gene, GeneSymbol, resolve_gene

pytestmark = pytest.mark.django_db

HEADER = "hgnc_id\tsymbol\tname\tlocus_group\tstatus\talias_symbol\tprev_symbol\n"
ROWS = [
    # CARS1 exists already (shipped); the file adds an alias.
    "HGNC:1493\tCARS1\tcysteinyl-tRNA synthetase 1\tprotein-coding gene\tApproved"
    '\t"CYSRS|MGC:11246"\tCARS\n',
    "HGNC:21114\tNEWGENE1\tsome new gene\tprotein-coding gene\tApproved\tNG1|SHARED9\tOLDNG1\n",
    "HGNC:21115\tNEWGENE2\tanother new gene\tprotein-coding gene\tApproved\tSHARED9\t\n",
    "HGNC:21116\tGONE1\ta withdrawn gene\tprotein-coding gene\tEntry Withdrawn\t\t\n",
    "NOT-AN-ID\tBAD1\tbroken row\tprotein-coding gene\tApproved\t\t\n",
    "HGNC:21117\tBAD SYMBOL\tbroken symbol\tprotein-coding gene\tApproved\t\t\n",
]


@pytest.fixture
def tsv(tmp_path):
    path = tmp_path / "hgnc_complete_set.txt"
    path.write_text(HEADER + "".join(ROWS), encoding="utf-8")
    return path


def test_approved_genes_are_added_and_updated_and_others_skipped(tsv, capsys):
    before = Gene.objects.count()
    call_command("import_hgnc", str(tsv))
    out, err = capsys.readouterr()
    assert "new 2, updated 1, unchanged 0, not approved 1, rows with errors 2" in out
    assert "line 6: “NOT-AN-ID” is not an HGNC ID" in err
    assert "line 7:" in err and "not a gene symbol" in err
    assert Gene.objects.count() == before + 2
    assert not Gene.objects.filter(symbol__in=["GONE1", "BAD1"]).exists()
    cars1 = Gene.objects.get(symbol="CARS1")
    assert cars1.alias_symbols == ["CYSRS", "MGC:11246"]
    assert cars1.previous_symbols == ["CARS"]


def test_imported_symbols_resolve_by_previous_symbol_alias_and_ambiguity(tsv):
    call_command("import_hgnc", str(tsv))
    assert resolve_gene("OLDNG1").gene.symbol == "NEWGENE1"
    assert resolve_gene("NG1").gene.symbol == "NEWGENE1"
    assert resolve_gene("CYSRS").gene.symbol == "CARS1"
    assert resolve_gene("CARS").gene.symbol == "CARS1"
    shared = resolve_gene("SHARED9")
    assert shared.gene is None
    assert {g.symbol for g in shared.candidates} == {"NEWGENE1", "NEWGENE2"}


def test_importing_the_same_file_twice_changes_nothing(tsv, capsys):
    call_command("import_hgnc", str(tsv))
    genes = list(Gene.objects.order_by("pk").values())
    lookup = GeneSymbol.objects.count()
    capsys.readouterr()
    call_command("import_hgnc", str(tsv))
    assert "new 0, updated 0, unchanged 3" in capsys.readouterr().out
    assert list(Gene.objects.order_by("pk").values()) == genes
    assert GeneSymbol.objects.count() == lookup


def test_a_file_without_the_hgnc_columns_is_refused_and_nothing_changes(tmp_path):
    path = tmp_path / "genes.tsv"
    path.write_text("id\tgene\nHGNC:1\tX\n", encoding="utf-8")
    count = Gene.objects.count()
    with pytest.raises(CommandError, match="missing column"):
        call_command("import_hgnc", str(path))
    assert Gene.objects.count() == count


def test_a_missing_or_binary_file_gets_a_clear_message(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_hgnc", str(tmp_path / "nope.txt"))
    binary = tmp_path / "x.gz"
    binary.write_bytes(b"\x1f\x8b\x08\x00\xff\xfe\x00\x80")
    with pytest.raises(CommandError, match="not UTF-8"):
        call_command("import_hgnc", str(binary))


def test_a_renamed_gene_keeps_its_identity_and_frees_its_old_symbol(tmp_path):
    alk = Gene.objects.get(symbol="ALK")
    path = tmp_path / "renamed.txt"
    path.write_text(
        HEADER
        + "HGNC:99999\tALK\ta new gene with the old symbol\tprotein-coding gene\tApproved\t\t\n"
        + "HGNC:427\tALKNEW\trenamed\tprotein-coding gene\tApproved\t\tALK\n",
        encoding="utf-8",
    )
    call_command("import_hgnc", str(path))
    alk.refresh_from_db()
    assert (alk.hgnc_id, alk.symbol) == ("HGNC:427", "ALKNEW")
    assert Gene.objects.get(symbol="ALK").hgnc_id == "HGNC:99999"
    # The approved symbol wins over the renamed gene's previous symbol.
    assert resolve_gene("ALK").gene.hgnc_id == "HGNC:99999"


def test_a_symbol_clash_with_another_gene_is_a_conflict_and_that_row_is_not_imported(
    tmp_path, capsys
):
    path = tmp_path / "clash.txt"
    path.write_text(
        HEADER
        + "HGNC:21114\tNEWGENE1\tsome new gene\tprotein-coding gene\tApproved\t\t\n"
        + "HGNC:427\tTPM3\tclashes with TPM3\tprotein-coding gene\tApproved\t\t\n",
        encoding="utf-8",
    )
    call_command("import_hgnc", str(path))
    assert "HGNC:427: RareDerm has it as ALK" in capsys.readouterr().err
    assert Gene.objects.get(hgnc_id="HGNC:427").symbol == "ALK"
    assert Gene.objects.get(symbol="TPM3").hgnc_id == "HGNC:12012"
    assert Gene.objects.filter(symbol="NEWGENE1").exists()


def test_a_rename_to_a_symbol_that_is_not_its_own_is_refused_for_that_row(tmp_path, capsys):
    # HGNC:7125 is MLF1; a gene stored as MLANA with that id (RareDerm once shipped
    # that error) must not silently become "MLF1": MLF1's previous symbols do not
    # include MLANA. The conflict is reported, the row left as it is, the rest imported.
    mlana = Gene.objects.get(symbol="MLANA")
    Gene.objects.filter(pk=mlana.pk).update(hgnc_id="HGNC:7125")
    path = tmp_path / "complete.txt"
    path.write_text(
        HEADER
        + "HGNC:7125\tMLF1\tmyeloid leukemia factor 1\tprotein-coding gene\tApproved\t\t\n"
        + "HGNC:21114\tNEWGENE1\tsome new gene\tprotein-coding gene\tApproved\t\t\n"
        + "HGNC:1493\tCARS1\tcysteinyl-tRNA synthetase 1\tprotein-coding gene\tApproved\t\tCARS\n",
        encoding="utf-8",
    )
    call_command("import_hgnc", str(path))
    out, err = capsys.readouterr()
    assert "HGNC:7125" in err and "MLANA" in err and "MLF1" in err
    assert "conflicts 1" in out
    mlana.refresh_from_db()
    assert (mlana.symbol, mlana.hgnc_id) == ("MLANA", "HGNC:7125")
    assert Gene.objects.filter(symbol="NEWGENE1").exists()
    assert not Gene.objects.filter(symbol="MLF1").exists()


def test_a_rename_hgnc_records_as_previous_symbol_is_applied(tmp_path):
    cars1 = Gene.objects.get(symbol="CARS1")
    Gene.objects.filter(pk=cars1.pk).update(symbol="CARS")
    path = tmp_path / "complete.txt"
    path.write_text(
        HEADER
        + "HGNC:1493\tCARS1\tcysteinyl-tRNA synthetase 1\tprotein-coding gene\tApproved\t\tCARS\n",
        encoding="utf-8",
    )
    call_command("import_hgnc", str(path))
    cars1.refresh_from_db()
    assert cars1.symbol == "CARS1"
