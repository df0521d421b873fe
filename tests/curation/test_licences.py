"""The figure licences (curation/vocabularies/licences.json) are SPDX's, as the file says."""

from packaging.licenses._spdx import LICENSES, VERSION

from curation import licences


def test_every_listed_identifier_is_on_the_spdx_list_or_a_licenseref():
    for key in licences.licences():
        if key.startswith("LicenseRef-") or key == "NOASSERTION":
            continue
        assert key.lower() in LICENSES, key
        assert LICENSES[key.lower()]["id"] == key  # SPDX's own spelling
        assert not LICENSES[key.lower()]["deprecated"], key


def test_the_file_names_the_spdx_list_version_it_was_checked_against():
    assert licences.source()["version"] == VERSION


def test_a_figure_without_a_known_licence_is_not_public():
    assert not licences.licences()["NOASSERTION"].public
    assert licences.licences()["CC-BY-4.0"].public
    assert licences.licences()[licences.PUBLISHER_PERMISSION].needs_reference
