"""A read-only JSON API of published cases: /api/cases/ and /api/cases/<id>/.

The filters are the search page's (same names, same meaning, same engine),
declared with django-filter so that the OpenAPI schema (/api/schema/)
documents them.
"""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch
from django.http import QueryDict
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import routers, serializers, viewsets
from rest_framework.exceptions import ValidationError

from citations import exports as citation_exports
from citations.models import Author
from curation.models import Case
from curation.search.contract import (
    BAD_KEY,
    BAD_REQUEST,
    NOT_FOUND,
    AbsoluteURLField,
    ContractModelSerializer,
    IdFilter,
    IHCFilter,
    SiteFilter,
    StrictFilterSet,
    StrictPageNumberPagination,
    YearFilter,
)
from curation.search.engine import Resolved, filtered, ordered
from curation.search.params import (
    AGE_BAND_KEYS,
    EVENTS,
    FINDING_TYPES,
    GRADES,
    METHODS,
    OUTCOMES,
    SEXES,
    SORTS,
    SOURCE_DEPTHS,
    TREATMENTS,
    SearchParams,
)

# The diagnosis codes' edition (curation/vocabularies/diagnoses.json, "code_system").
ICDO_VERSION = "ICD-O-3.2"


class IHCSerializer(serializers.Serializer):
    marker = serializers.CharField(source="marker.name")
    result = serializers.CharField()
    clone = serializers.CharField()
    intensity = serializers.CharField()
    extent = serializers.CharField()
    percent_cells = serializers.IntegerField(allow_null=True)


class FusionSerializer(serializers.Serializer):
    notation = serializers.CharField(help_text="HGNC notation, e.g. CARS1::ALK; ?::ALK unknown")
    five_prime = serializers.SerializerMethodField()
    five_prime_hgnc_id = serializers.SerializerMethodField()
    three_prime = serializers.CharField(source="three_prime_gene.symbol")
    three_prime_hgnc_id = serializers.CharField(source="three_prime_gene.hgnc_id")
    partner_status = serializers.CharField(help_text="known / unknown / multiple")
    five_prime_exon = serializers.CharField()
    three_prime_exon = serializers.CharField()
    five_prime_transcript = serializers.CharField(help_text="RefSeq accession (NM_…)")
    three_prime_transcript = serializers.CharField(help_text="RefSeq accession (NM_…)")
    breakpoint = serializers.CharField(help_text="As reported")
    method = serializers.CharField(help_text="A code of the controlled list of methods")
    assay = serializers.CharField(help_text="The assay as the paper names it")
    as_reported = serializers.CharField()

    def get_five_prime(self, finding) -> str | None:
        return finding.five_prime_gene.symbol if finding.five_prime_gene_id else None

    def get_five_prime_hgnc_id(self, finding) -> str | None:
        return finding.five_prime_gene.hgnc_id if finding.five_prime_gene_id else None


class MolecularFindingSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="variant / copy_number / other")
    gene = serializers.SerializerMethodField()
    gene_hgnc_id = serializers.SerializerMethodField()
    hgvs_protein = serializers.CharField(help_text="HGVS, three-letter: p.Val600Glu")
    hgvs_cdna = serializers.CharField(help_text="HGVS: c.1799T>A")
    transcript = serializers.CharField(help_text="RefSeq transcript")
    copy_number = serializers.CharField(
        help_text="amplification / gain / loss / homozygous_deletion / deletion"
    )
    description = serializers.CharField()
    method = serializers.CharField()
    assay = serializers.CharField()
    as_reported = serializers.CharField()
    display = serializers.CharField(help_text="e.g. BRAF p.V600E")

    def get_gene(self, finding) -> str | None:
        return finding.gene.symbol if finding.gene_id else None

    def get_gene_hgnc_id(self, finding) -> str | None:
        return finding.gene.hgnc_id if finding.gene_id else None


class TreatmentSerializer(serializers.Serializer):
    kind = serializers.CharField()
    agent = serializers.CharField()
    margins = serializers.CharField(help_text="negative / close / positive; empty: not reported")
    months = serializers.FloatField(allow_null=True, help_text="Months from diagnosis")
    as_reported = serializers.CharField()


class ClinicalEventSerializer(serializers.Serializer):
    kind = serializers.CharField(
        help_text="local_recurrence / regional_metastasis / distant_metastasis / metastasis / "
        "death_of_disease / death_other_cause"
    )
    months = serializers.FloatField(
        allow_null=True, help_text="Months from diagnosis; null when the paper does not say"
    )
    site = serializers.CharField()
    as_reported = serializers.CharField()


class CitationSerializer(serializers.Serializer):
    pmid = serializers.IntegerField()
    doi = serializers.CharField()
    title = serializers.CharField()
    journal = serializers.CharField()
    year = serializers.IntegerField(allow_null=True)
    first_author = serializers.SerializerMethodField()

    def get_first_author(self, citation) -> str:
        authors = citation_exports.authors_of(citation)
        return str(authors[0]) if authors else ""


class CaseSerializer(ContractModelSerializer):
    url = AbsoluteURLField()
    final_diagnosis = serializers.CharField(source="final_diagnosis.name", default="")
    final_diagnosis_icdo3 = serializers.CharField(source="final_diagnosis.icdo3_code", default="")
    final_diagnosis_family = serializers.CharField(
        source="final_diagnosis.family.name", default=""
    )
    topography_code = serializers.CharField(source="topography.code", default="")
    topography = serializers.CharField(source="topography.name", default="")
    ihc = IHCSerializer(source="ihc_results", many=True)
    fusions = FusionSerializer(many=True)
    molecular_findings = MolecularFindingSerializer(many=True)
    treatments = TreatmentSerializer(many=True)
    clinical_events = ClinicalEventSerializer(many=True)
    citation = CitationSerializer()
    icdo_version = serializers.SerializerMethodField(
        help_text="The ICD-O edition of the diagnosis codes"
    )
    reported_diagnosis = serializers.CharField(source="reported_diagnosis.name", default="")
    differentials = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")
    record_version = serializers.IntegerField(source="version")
    last_modified = serializers.DateTimeField(source="updated_at")
    open_flags = serializers.IntegerField(
        read_only=True, help_text="Readers' error reports on this case still open (0: none)"
    )

    def get_icdo_version(self, case) -> str:
        return ICDO_VERSION

    class Meta:
        model = Case
        fields = [
            "id",
            "url",
            "label",
            "final_diagnosis",
            "final_diagnosis_icdo3",
            "final_diagnosis_family",
            "topography_code",
            "topography",
            "site_detail",
            "laterality",
            "age",
            "age_unit",
            "sex",
            "size_mm",
            "clinical_presentation",
            "histology",
            "cell_type",
            "ihc",
            "fusions",
            "molecular_findings",
            "evidence_grade",
            "grade_lowered_to",
            "grade_lowered_reason",
            "source_depth",
            "diagnosis_as_reported",
            "reported_diagnosis",
            "diagnosis_review",
            "diagnosis_review_comment",
            "differentials",
            "differentials_as_reported",
            "depth",
            "depth_mm",
            "mitoses",
            "mitoses_unit",
            "necrosis",
            "lymphovascular_invasion",
            "perineural_invasion",
            "focality",
            "treatment",
            "treatments",
            "clinical_events",
            "follow_up_months",
            "outcome",
            "notes",
            "citation",
            "icdo_version",
            "record_version",
            "open_flags",
            "last_modified",
            "published_at",
        ]
        read_only_fields = fields


def with_record(cases):
    """The API's case: every field and row (Case.objects.with_record) and the authors."""
    return (
        cases.with_record()
        .with_open_flags()
        .prefetch_related(
            Prefetch("citation__authors", queryset=Author.objects.order_by("position"))
        )
    )


def _choices(values):
    return [(v, v) for v in values]


class CaseFilter(StrictFilterSet):
    """The search page's parameters; see curation/search/params.py."""

    q = django_filters.CharFilter(method="_none", help_text="Words (title, abstract, case text)")
    dx = IdFilter(method="_none", help_text="Final diagnosis id (repeatable)")
    family = IdFilter(
        method="_none", help_text="WHO family id of the final diagnosis (repeatable)"
    )
    site = SiteFilter(method="_none", help_text="C44, C49 or a code like C44.4")
    five = django_filters.CharFilter(method="_none", help_text="5' partner, any symbol")
    three = django_filters.CharFilter(method="_none", help_text="3' partner, any symbol")
    ihc = IHCFilter(method="_none", help_text="marker:result, e.g. ALK:positive")
    sex = django_filters.ChoiceFilter(method="_none", choices=_choices(SEXES))
    age = django_filters.ChoiceFilter(method="_none", choices=_choices(AGE_BAND_KEYS))
    year = YearFilter(method="_none", help_text="Publication year (repeatable)")
    outcome = django_filters.ChoiceFilter(
        method="_none", choices=_choices(OUTCOMES), help_text="Status at last follow-up"
    )
    grade = django_filters.ChoiceFilter(
        method="_none", choices=_choices(GRADES), help_text="Evidence grade (repeatable)"
    )
    source = django_filters.ChoiceFilter(
        method="_none", choices=_choices(SOURCE_DEPTHS), help_text="What the curator read"
    )
    finding = django_filters.ChoiceFilter(
        method="_none", choices=_choices(FINDING_TYPES), help_text="Molecular finding type"
    )
    method = django_filters.ChoiceFilter(
        method="_none", choices=_choices(METHODS), help_text="Molecular method"
    )
    treatment = django_filters.ChoiceFilter(method="_none", choices=_choices(TREATMENTS))
    event = django_filters.ChoiceFilter(
        method="_none", choices=_choices(EVENTS), help_text="An event of the clinical course"
    )
    profile = django_filters.CharFilter(method="_none", help_text="e.g. ALK+ SMA+ S100- SOX10-")
    sort = django_filters.ChoiceFilter(method="_none", choices=_choices(SORTS))

    class Meta:
        model = Case
        fields = []

    def _none(self, queryset, name, value):
        return queryset  # applied together in filter_queryset

    def filter_queryset(self, queryset):
        data = self.data if isinstance(self.data, QueryDict) else QueryDict("", mutable=True)
        params = SearchParams.from_query(data)
        resolved = Resolved(params)
        if resolved.errors:
            raise ValidationError({"detail": resolved.errors})
        return with_record(ordered(filtered(params, resolved), params, resolved))


@extend_schema_view(
    list=extend_schema(
        responses={200: CaseSerializer, 400: BAD_REQUEST, 401: BAD_KEY, 404: NOT_FOUND}
    ),
    retrieve=extend_schema(responses={200: CaseSerializer, 401: BAD_KEY, 404: NOT_FOUND}),
)
class CaseViewSet(viewsets.ReadOnlyModelViewSet):
    """Published cases only; a draft is not found here."""

    serializer_class = CaseSerializer
    filterset_class = CaseFilter
    pagination_class = StrictPageNumberPagination

    def get_queryset(self):
        return with_record(Case.objects.published().order_by("-published_at", "-pk"))


router = routers.SimpleRouter()
router.register("cases", CaseViewSet, basename="api-case")
