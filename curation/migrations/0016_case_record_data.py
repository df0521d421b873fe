"""Existing cases into the new record, without loss (issue 14).

- A fusion without a 5' gene gets partner status "unknown"; a 5' exon it
  carried (meaningless without the partner) moves into the breakpoint text.
- The old outcomes "local recurrence" and "metastasis" become clinical events
  (time not reported: the old record did not hold it); the status at last
  follow-up is then left for the curator to give (not guessed).
- Every case gets the evidence grade its findings support.
Then the two fusion rules are added, which the old rows now satisfy, and an IHC
result may be "not performed" (the paper says the stain was not done), kept apart
from "not reported".
"""

from django.db import migrations, models

from curation.molecular import supported_grade

IHC_RESULTS = [
    ("positive", "Positive"),
    ("negative", "Negative"),
    ("equivocal", "Equivocal"),
    ("not_reported", "Not reported"),
    ("not_performed", "Not performed"),
]
OLD_OUTCOME_EVENTS = {
    "recurrence": ("local_recurrence", "Local recurrence"),
    "metastasis": ("metastasis", "Metastasis"),
}


def forward(apps, schema_editor):
    Case = apps.get_model("curation", "Case")
    FusionFinding = apps.get_model("curation", "FusionFinding")
    ClinicalEvent = apps.get_model("curation", "ClinicalEvent")
    for fusion in FusionFinding.objects.filter(five_prime_gene__isnull=True):
        fusion.partner_status = "unknown"
        if fusion.five_prime_exon:
            fusion.breakpoint = (
                f"5' exon {fusion.five_prime_exon} (recorded with an unknown partner) "
                + fusion.breakpoint
            ).strip()
            fusion.five_prime_exon = ""
        fusion.save(update_fields=["partner_status", "breakpoint", "five_prime_exon"])
    for old, (kind, label) in OLD_OUTCOME_EVENTS.items():
        for case in Case.objects.filter(outcome=old):
            ClinicalEvent.objects.create(
                case=case,
                kind=kind,
                months=None,
                as_reported=f"Outcome “{label}” (recorded before events had times).",
                position=0,
            )
            case.outcome = ""
            case.save(update_fields=["outcome"])
    for case in Case.objects.iterator():
        methods = FusionFinding.objects.filter(case=case).values_list("method", flat=True)
        results = case.ihc_results.values_list("result", flat=True)
        grade = supported_grade(list(methods), list(results))
        if grade != case.evidence_grade:
            case.evidence_grade = grade
            case.save(update_fields=["evidence_grade"])


def backward(apps, schema_editor):
    Case = apps.get_model("curation", "Case")
    ClinicalEvent = apps.get_model("curation", "ClinicalEvent")
    for old, (kind, _label) in OLD_OUTCOME_EVENTS.items():
        for event in ClinicalEvent.objects.filter(kind=kind, months__isnull=True):
            Case.objects.filter(pk=event.case_id, outcome="").update(outcome=old)


class Migration(migrations.Migration):
    dependencies = [("curation", "0015_case_record")]

    operations = [
        migrations.RunPython(forward, backward),
        migrations.AddConstraint(
            model_name="fusionfinding",
            constraint=models.CheckConstraint(
                condition=models.Q(partner_status="known", five_prime_gene__isnull=False)
                | models.Q(
                    partner_status__in=["unknown", "multiple"], five_prime_gene__isnull=True
                ),
                name="curation_fusionfinding_partner_status",
                violation_error_message="A known partner is a gene; an unknown one is none.",
            ),
        ),
        migrations.AddConstraint(
            model_name="fusionfinding",
            constraint=models.CheckConstraint(
                condition=models.Q(five_prime_gene__isnull=False)
                | models.Q(five_prime_exon="", five_prime_transcript=""),
                name="curation_fusionfinding_no_exon_without_partner",
                violation_error_message=(
                    "An exon or transcript of the 5' partner needs a known partner."
                ),
            ),
        ),
        # IHC: "not performed" (the paper says so) kept apart from "not reported".
        migrations.RemoveConstraint(
            model_name="ihcresult",
            name="curation_ihcresult_result_valid",
        ),
        migrations.AlterField(
            model_name="historicalihcresult",
            name="result",
            field=models.CharField(choices=IHC_RESULTS, max_length=20),
        ),
        migrations.AlterField(
            model_name="ihcresult",
            name="result",
            field=models.CharField(choices=IHC_RESULTS, max_length=20),
        ),
        migrations.AddConstraint(
            model_name="ihcresult",
            constraint=models.CheckConstraint(
                condition=models.Q(result__in=[code for code, _label in IHC_RESULTS]),
                name="curation_ihcresult_result_valid",
            ),
        ),
    ]
