"""The case record: database constraints, fusion matching, field history."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from curation.diff import version_changes
from curation.models import Case, FusionFinding, IHCResult
from tests.factories import CaseFactory, CitationFactory, gene, make_published_case, marker

pytestmark = pytest.mark.django_db


def _violates(name, **changes):
    case = CaseFactory(fusions=[], ihc=[])
    for field, value in changes.items():
        setattr(case, field, value)
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        case.save()
    assert name in str(excinfo.value) or "CHECK" in str(excinfo.value).upper()


def test_a_citation_cannot_have_two_cases_with_the_same_label():
    citation = CitationFactory()
    CaseFactory(citation=citation, label="Case 2")
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseFactory(citation=citation, label="Case 2")
    # Another label, or an unlabelled case, is fine.
    CaseFactory(citation=citation, label="Case 3")
    CaseFactory(citation=citation, label="")
    CaseFactory(citation=citation, label="")
    assert citation.cases.count() == 4


def test_a_revision_may_repeat_the_label_of_the_case_it_revises():
    published = make_published_case(label="Case 1")
    revision = CaseFactory(citation=published.citation, label="Case 1", revision_of=published)
    assert revision.label == published.label


def test_a_published_case_has_at_most_one_open_revision():
    published = make_published_case()
    CaseFactory(citation=published.citation, revision_of=published)
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseFactory(citation=published.citation, revision_of=published)


def test_age_cannot_be_negative():
    _violates("curation_case_age_nonnegative", age=Decimal("-1"))


def test_an_age_needs_its_unit():
    _violates("curation_case_age_has_unit", age_unit="")


def test_size_cannot_be_negative():
    _violates("curation_case_size_nonnegative", size_mm=Decimal("-0.5"))


def test_follow_up_is_recorded_only_with_a_status_at_last_follow_up():
    case = CaseFactory(follow_up_months=Decimal("12"), outcome=Case.Outcome.NED)
    assert case.follow_up_months == 12
    case.outcome = ""
    with pytest.raises(ValidationError) as excinfo:
        case.full_clean()
    assert excinfo.value.message_dict["outcome"] == [
        "Give the status at the last follow-up, or leave follow-up empty."
    ]


def test_a_published_case_has_a_publication_date():
    _violates("curation_case_published_has_date", status=Case.Status.PUBLISHED, published_at=None)


def test_status_must_be_one_of_the_workflow_statuses():
    _violates("curation_case_status_valid", status="approved")


def test_ihc_percentage_is_at_most_100():
    case = CaseFactory(ihc=[], fusions=[])
    with pytest.raises(IntegrityError), transaction.atomic():
        IHCResult.objects.create(
            case=case, marker=marker("ALK"), result="positive", percent_cells=101
        )


def test_a_fusion_partner_is_not_fused_to_itself():
    case = CaseFactory(ihc=[], fusions=[])
    with pytest.raises(IntegrityError), transaction.atomic():
        FusionFinding.objects.create(
            case=case, five_prime_gene=gene("ALK"), three_prime_gene=gene("ALK")
        )


def test_published_lists_only_published_cases():
    draft = CaseFactory()
    published = make_published_case()
    assert list(Case.objects.published()) == [published]
    assert draft not in Case.objects.published()


def test_visible_to_gives_the_public_published_cases_and_an_author_their_drafts(
    curator, curator2, reviewer
):
    own_draft = CaseFactory(created_by=curator)
    submitted = CaseFactory(created_by=curator, status=Case.Status.SUBMITTED)
    published = make_published_case()
    from django.contrib.auth.models import AnonymousUser

    assert set(Case.objects.visible_to(AnonymousUser())) == {published}
    assert set(Case.objects.visible_to(curator)) == {own_draft, submitted, published}
    assert set(Case.objects.visible_to(curator2)) == {published}
    assert set(Case.objects.visible_to(reviewer)) == {submitted, published}


@pytest.mark.parametrize(
    "written", ["CARS-ALK", "CARS/ALK", "CARS1-ALK", "CARS1::ALK", "cars1 :: alk"]
)
def test_every_way_of_writing_the_fusion_finds_the_cars1_alk_case(written):
    found = CaseFactory(fusions=["CARS1::ALK"])
    CaseFactory(fusions=["TPM3::ALK"])
    CaseFactory(fusions=["?::ALK"])
    assert list(Case.objects.with_fusion(written)) == [found]
    assert FusionFinding.objects.matching(written).get().notation == "CARS1::ALK"


def test_cars2_alk_does_not_find_the_cars1_alk_case():
    CaseFactory(fusions=["CARS1::ALK"])
    assert not Case.objects.with_fusion("CARS2::ALK").exists()


def test_a_partner_unknown_rearrangement_is_representable_and_found_by_its_gene():
    known = CaseFactory(fusions=["CARS1::ALK"])
    unknown = CaseFactory(fusions=["?::ALK"])
    finding = unknown.fusions.get()
    assert finding.partner_unknown
    assert finding.notation == "?::ALK"
    assert finding.display == "ALK rearrangement (partner unknown)"
    assert set(Case.objects.with_fusion("ALK rearrangement")) == {known, unknown}


@pytest.mark.parametrize("junk", ["", "::", "ALK::", "A" * 2000, "NOSUCHGENE::ALK"])
def test_hostile_fusion_searches_find_nothing_and_do_not_fail(junk):
    CaseFactory(fusions=["CARS1::ALK"])
    assert not Case.objects.with_fusion(junk).exists()


def test_fusion_notation_and_what_the_paper_wrote_are_both_kept():
    finding = CaseFactory(fusions=["CARS-ALK"]).fusions.get()
    assert finding.notation == "CARS1::ALK"
    assert finding.as_reported == "CARS-ALK"


def test_history_keeps_every_saved_version_with_a_field_diff():
    case = CaseFactory(ihc=[], fusions=[], site_detail="scalp")
    case.site_detail = "left posterior scalp"
    case.version = 2
    case.save()
    changes = {c.field: (c.before, c.after) for c in version_changes(case, 1, 2)}
    assert changes["site_detail"] == ("scalp", "left posterior scalp")
    assert changes["version"] == ("1", "2")
    with pytest.raises(LookupError, match=r"no saved version \[7\]"):
        version_changes(case, 1, 7)


def test_child_rows_have_their_own_history():
    case = CaseFactory(fusions=[])
    row = case.ihc_results.get()
    row_id = row.id
    row.intensity = IHCResult.Intensity.WEAK
    row.save()
    row.delete()
    kinds = list(
        IHCResult.history.filter(id=row_id)
        .order_by("history_date")
        .values_list("history_type", "intensity")
    )
    assert kinds == [("+", "strong"), ("~", "weak"), ("-", "weak")]
