"""citations/pmc.py: PMC's OA service, package downloads, and packages read safely."""

import io
import tarfile

import pytest

from citations import pmc
from tests.fake_pmc import make_package
from tests.figure_files import jpeg, png

FIGURES = [
    (
        "F1",
        "Figure 1",
        "Clinical photograph of the scalp nodule.",
        "cup14261-fig-0001.jpg",
        jpeg(),
    ),
    (
        "F2",
        "Figure 2",
        "ALK, granular cytoplasmic staining (\u00d7400).",
        "cup14261-fig-0002.png",
        png(),
    ),
]


def test_the_oa_service_gives_the_licence_and_the_package_on_the_files_server(fake_pmc):
    fake_pmc.add("PMC9000001", make_package("PMC9000001", FIGURES), licence="CC BY-NC")
    record = pmc.oa_record("PMC9000001")
    assert (record.licence, record.citation) == ("CC BY-NC", "J Cutan Pathol. 2022")
    assert record.package_url == f"{fake_pmc.url}/pub/pmc/oa_package/8e/71/PMC9000001.tar.gz"


def test_an_article_outside_the_open_access_subset_is_said_so(fake_pmc):
    with pytest.raises(pmc.NotOpenAccess, match="PMC1 is not in PMC's open-access subset"):
        pmc.oa_record("PMC1")


def test_a_busy_server_is_tried_again(fake_pmc):
    fake_pmc.add("PMC9000001", make_package("PMC9000001", FIGURES))
    fake_pmc.inject(503)
    assert pmc.oa_record("PMC9000001").pmcid == "PMC9000001"
    assert len(fake_pmc.requests) == 2


def test_a_package_over_the_size_limit_is_not_downloaded(fake_pmc, settings):
    fake_pmc.add("PMC9000001", make_package("PMC9000001", FIGURES))
    settings.PMC_MAX_PACKAGE_BYTES = 2048
    with pytest.raises(pmc.PMCError, match="larger than"):
        pmc.download_package(pmc.oa_record("PMC9000001"))


def test_a_package_gives_its_figures_with_labels_captions_and_the_licence_link(fake_pmc):
    fake_pmc.add("PMC9000001", make_package("PMC9000001", FIGURES))
    package = pmc.read_package(pmc.download_package(pmc.oa_record("PMC9000001")))
    assert package.licence_url == "https://creativecommons.org/licenses/by/4.0/"
    assert [(f.id, f.label, f.file_name) for f in package.figures] == [
        ("F1", "Figure 1", "PMC9000001/cup14261-fig-0001.jpg"),
        ("F2", "Figure 2", "PMC9000001/cup14261-fig-0002.png"),
    ]
    assert package.figures[1].caption == "ALK, granular cytoplasmic staining (\u00d7400)."
    assert package.figures[0].data == FIGURES[0][4]


def _member(name, data=b"x", **attrs):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in attrs.items():
        setattr(info, key, value)
    return (info, data) if info.isfile() else info


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ([_member("../../etc/cron.d/evil")], "outside itself"),
        ([_member("PMC9000001/../../evil.jpg")], "outside itself"),
        ([_member("/etc/passwd")], "outside itself"),
        ([_member("PMC9000001/link.jpg", type=tarfile.SYMTYPE, linkname="/etc/passwd")], "a link"),
        (
            [_member("PMC9000001/hard.jpg", type=tarfile.LNKTYPE, linkname="article.nxml")],
            "a link",
        ),
        ([_member("PMC9000001/dev", type=tarfile.CHRTYPE)], "device"),
    ],
    ids=["dot-dot", "dot-dot inside", "absolute", "symlink", "hard link", "device"],
)
def test_a_hostile_package_is_refused_whole(extra, reason):
    data = make_package("PMC9000001", FIGURES, extra=extra)
    with pytest.raises(pmc.UnsafePackage, match=reason):
        pmc.read_package(data)


def test_a_zip_bomb_is_refused_before_it_is_unpacked(settings):
    settings.PMC_MAX_UNPACKED_BYTES = 1024 * 1024
    bomb = _member("PMC9000001/huge.tif", bytes(20 * 1024 * 1024))
    data = make_package("PMC9000001", FIGURES, extra=[bomb])
    assert len(data) - len(make_package("PMC9000001", FIGURES)) < 100_000  # 20 MB of zeros
    with pytest.raises(pmc.UnsafePackage, match=r"unpacks to more than 1\.04858 MB"):
        pmc.read_package(data)


def test_a_package_with_too_many_files_is_refused(settings):
    settings.PMC_MAX_MEMBERS = 50
    extra = [_member(f"PMC9000001/supp-{i}.txt") for i in range(60)]
    with pytest.raises(pmc.UnsafePackage, match="more than 50 files"):
        pmc.read_package(make_package("PMC9000001", FIGURES, extra=extra))


def test_something_that_is_not_a_package_is_refused():
    with pytest.raises(pmc.UnsafePackage, match="not a readable"):
        pmc.read_package(b"<html>Service unavailable</html>")
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        info = tarfile.TarInfo("readme.txt")
        archive.addfile(info, io.BytesIO(b""))
    with pytest.raises(pmc.UnsafePackage, match="no article XML"):
        pmc.read_package(out.getvalue())
