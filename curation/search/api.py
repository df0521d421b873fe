"""A read-only JSON API of published cases: /api/cases/ and /api/cases/<id>/.

The filters are the search page's (same names, same meaning, same engine),
declared with django-filter so that the OpenAPI schema (/api/schema/)
documents them.
"""

from __future__ import annotations

import django_filters
from django.http import QueryDict
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import routers, serializers, viewsets
from rest_framework.exceptions import ValidationError

from citations import exports as citation_exports
from curation.models import Case
from curation.search.contract import (
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
from curation.search.engine import Resolved, filtered, ordered, with_rows
from curation.search.params import AGE_BAND_KEYS, OUTCOMES, SEXES, SORTS, SearchParams


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
    three_prime = serializers.CharField(source="three_prime_gene.symbol")
    method = serializers.CharField()

    def get_five_prime(self, finding) -> str | None:
        return finding.five_prime_gene.symbol if finding.five_prime_gene_id else None


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
    citation = CitationSerializer()

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
            "treatment",
            "follow_up_months",
            "outcome",
            "notes",
            "citation",
            "published_at",
        ]
        read_only_fields = fields


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
    outcome = django_filters.ChoiceFilter(method="_none", choices=_choices(OUTCOMES))
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
        return with_rows(ordered(filtered(params, resolved), params, resolved))


@extend_schema_view(
    list=extend_schema(responses={200: CaseSerializer, 400: BAD_REQUEST, 404: NOT_FOUND}),
    retrieve=extend_schema(responses={200: CaseSerializer, 404: NOT_FOUND}),
)
class CaseViewSet(viewsets.ReadOnlyModelViewSet):
    """Published cases only; a draft is not found here."""

    serializer_class = CaseSerializer
    filterset_class = CaseFilter
    pagination_class = StrictPageNumberPagination

    def get_queryset(self):
        return with_rows(Case.objects.published().order_by("-published_at", "-pk"))


router = routers.SimpleRouter()
router.register("cases", CaseViewSet, basename="api-case")
