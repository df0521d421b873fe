"""/api/v1/: the versioned API (issue 17). /api/cases/ keeps working as it was.

Cases as in /api/cases/ (the same serializer, filters and contract), plus:
- cursor pagination (stable pages while cases are published: `?cursor=`),
  newest publication first;
- `ETag` (of the body) and `Last-Modified` (the newest record's change) on
  every 200, and `304 Not Modified` for a matching `If-None-Match` or
  `If-Modified-Since`; an `If-None-Match` that is no list of entity tags is a 400;
- anonymous throttling (API_ANON_RATE) with 429 and `Retry-After`;
- CORS for read-only GETs (`Access-Control-Allow-Origin: *`);
- releases: each release with its files, sizes and checksums;
- vocabularies: diagnoses (with their published case counts), genes (one gene
  with its fusion partners in published cases), IHC markers;
- citations of published cases, by PMID, with CSL-JSON.
"""

from __future__ import annotations

import hashlib
import re

from django.conf import settings
from django.db.models import Count, Q
from django.utils.http import http_date, parse_http_date_safe
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import pagination, routers, serializers, viewsets
from rest_framework.exceptions import NotFound, ParseError, ValidationError
from rest_framework.throttling import AnonRateThrottle

from accounts.throttle import client_address
from accounts.tokens import TokenThrottle
from citations import exports as citation_exports
from citations.models import Citation
from curation.drafts_api import DraftViewSet
from curation.models import Diagnosis, Gene, Marker, Release
from curation.search import answers
from curation.search.api import CaseFilter, CaseSerializer, CaseViewSet
from curation.search.contract import BAD_KEY, BAD_REQUEST, NOT_FOUND, TOO_MANY
from curation.search.params import RETRACTED_INCLUDE, RETRACTED_PARAM, read_retracted
from curation.search.partners import gene_partners

# RFC 9110 section 13.1.2: "*" or a comma-separated list of (weak) entity tags.
_ENTITY_TAG = r'(W/)?"[\x21\x23-\x7e\x80-\xff]*"'
_IF_NONE_MATCH = re.compile(rf"^\s*(\*|{_ENTITY_TAG}(\s*,\s*{_ENTITY_TAG})*)\s*$")

NOT_MODIFIED = OpenApiResponse(description="Not modified since the ETag / date the client has.")


class AnonThrottle(AnonRateThrottle):
    """Requests without a login, per client address, at most API_ANON_RATE (e.g. 120/min)."""

    scope = "anon"

    def get_rate(self):
        return settings.API_ANON_RATE

    def get_ident(self, request):
        return client_address(request) or super().get_ident(request)


class CaseCursorPagination(pagination.CursorPagination):
    ordering = ("-published_at", "-pk")
    page_size = 50


class V1Mixin:
    """Conditional GETs, CORS and throttling, the same for every v1 endpoint."""

    throttle_classes = [AnonThrottle, TokenThrottle]

    def initial(self, request, *args, **kwargs):
        header = request.headers.get("If-None-Match")
        if header is not None and not _IF_NONE_MATCH.match(header):
            raise ParseError(
                'If-None-Match must be * or entity tags in double quotes, e.g. "abc".'
            )
        super().initial(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Access-Control-Allow-Origin"] = "*"
        if request.method != "GET" or response.status_code != 200:
            return response
        response.render()
        etag = '"' + hashlib.sha256(response.content).hexdigest()[:32] + '"'
        response["ETag"] = etag
        modified = getattr(self, "_last_modified", None)
        if modified is not None:
            response["Last-Modified"] = http_date(modified.timestamp())
        if _matches(request.headers.get("If-None-Match"), etag) or (
            request.headers.get("If-None-Match") is None
            and _not_modified_since(request.headers.get("If-Modified-Since"), modified)
        ):
            response.status_code = 304
            response.content = b""
        return response


def _matches(header: str | None, etag: str) -> bool:
    if header is None:
        return False
    if header.strip() == "*":
        return True
    tags = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return etag in tags


def _not_modified_since(header: str | None, modified) -> bool:
    if header is None or modified is None:
        return False
    since = parse_http_date_safe(header)
    return since is not None and int(modified.timestamp()) <= since


class CaseFilterV1(CaseFilter):
    """The search page's filters; the order is the cursor's (newest first), so no `sort`."""


CaseFilterV1.base_filters.pop("sort", None)


class CaseV1Serializer(CaseSerializer):
    """The case of /api/cases/ (its own name: v1 pages are cursor pages in the schema)."""


_ERRORS = {304: NOT_MODIFIED, 400: BAD_REQUEST, 401: BAD_KEY, 404: NOT_FOUND, 429: TOO_MANY}


@extend_schema_view(
    list=extend_schema(responses={200: CaseV1Serializer, **_ERRORS}),
    retrieve=extend_schema(responses={200: CaseV1Serializer, **_ERRORS}),
)
class CaseViewSetV1(V1Mixin, CaseViewSet):
    """Published cases, newest first, with cursor pagination."""

    serializer_class = CaseV1Serializer
    filterset_class = CaseFilterV1
    pagination_class = CaseCursorPagination

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        rows = page if page is not None else []
        self._last_modified = max((case.updated_at for case in rows), default=None)
        return page

    def get_object(self):
        case = super().get_object()
        self._last_modified = case.updated_at
        return case


class ReleaseFileSerializer(serializers.Serializer):
    name = serializers.CharField()
    size = serializers.IntegerField(help_text="Bytes")
    sha256 = serializers.CharField()
    url = serializers.SerializerMethodField()

    def get_url(self, item) -> str:
        from django.urls import reverse

        path = reverse("curation:release_file", args=[self.context["release"].name, item["name"]])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class ReleaseSerializer(serializers.ModelSerializer):
    files = serializers.SerializerMethodField()

    class Meta:
        model = Release
        fields = ["name", "created_at", "licence", "case_count", "citation_count", "files"]
        read_only_fields = fields

    def get_files(self, release) -> list[dict]:
        context = {**self.context, "release": release}
        return ReleaseFileSerializer(release.files, many=True, context=context).data


@extend_schema_view(
    list=extend_schema(responses={200: ReleaseSerializer, **_ERRORS}),
    retrieve=extend_schema(responses={200: ReleaseSerializer, **_ERRORS}),
)
class ReleaseViewSet(V1Mixin, viewsets.ReadOnlyModelViewSet):
    """Releases, newest first, with their files' sizes and SHA-256 checksums."""

    serializer_class = ReleaseSerializer
    lookup_field = "name"
    lookup_value_regex = "[^/]+"
    pagination_class = None
    filterset_class = None
    filter_backends = []

    def get_queryset(self):
        return Release.objects.order_by("-created_at", "-pk")


# -- vocabularies: diagnoses, genes (with their fusion partners), markers ----------


class IdCursorPagination(pagination.CursorPagination):
    ordering = ("pk",)
    page_size = 100


def _published_cases():
    return Count("cases", filter=Q(cases__status="published"), distinct=True)


class DiagnosisSerializer(serializers.ModelSerializer):
    family = serializers.CharField(source="family.name", default=None, allow_null=True)
    published_cases = serializers.IntegerField(
        help_text="Published cases with this final diagnosis"
    )
    slug = serializers.SerializerMethodField(
        help_text="Its address: /api/v1/diagnoses/<slug>/ (and the entity page /diagnoses/<slug>/)"
    )

    class Meta:
        model = Diagnosis
        fields = ["id", "slug", "name", "icdo3_code", "family", "synonyms", "published_cases"]
        read_only_fields = fields

    def get_slug(self, diagnosis) -> str:
        return answers.diagnosis_slug(diagnosis)


def _n(value) -> float | None:
    return None if value is None else float(value)


class _Statistics(serializers.Serializer):
    """Documents the entity page's numbers (curation.search.answers.entity_summary)."""

    cases = serializers.IntegerField(help_text="Published cases of the entity or its subtypes")
    papers = serializers.IntegerField(help_text="The papers they come from")
    evidence_grades = serializers.DictField(
        child=serializers.IntegerField(), help_text="Cases per evidence grade (A to D)"
    )
    age_years = serializers.DictField(
        child=serializers.FloatField(allow_null=True),
        help_text="n (cases with an age), median, min, max, in years",
    )
    sex = serializers.DictField(child=serializers.IntegerField(), help_text="female, male")
    sites = serializers.ListField(
        child=serializers.DictField(), help_text="ICD-O-3 code, name and cases, most first"
    )
    size_mm = serializers.DictField(
        child=serializers.FloatField(allow_null=True), help_text="n, median (greatest dimension)"
    )
    ihc = serializers.ListField(
        child=serializers.DictField(),
        help_text="Per marker: cases positive and tested (each case once; a case is "
        "positive if any of its results was), percent positive, clones, few (tested in "
        f"fewer than {answers.FEW_TESTED} cases); most tested first",
    )
    fusions = serializers.ListField(
        child=serializers.DictField(), help_text="notation (5'::3'), method, cases"
    )
    molecular_findings = serializers.ListField(
        child=serializers.DictField(), help_text="finding, method, cases"
    )
    treatments = serializers.ListField(child=serializers.DictField(), help_text="treatment, cases")
    course = serializers.DictField(
        help_text="followed (cases with a follow-up), median_follow_up_months, "
        "recurrence, metastasis, death_of_disease (cases)"
    )
    newest_cases = serializers.ListField(
        child=serializers.IntegerField(), help_text="The newest published cases' numbers"
    )


def entity_statistics(diagnosis: Diagnosis, *, retracted: bool = False) -> dict:
    """The numbers of the entity page (answers.entity_summary, the one place they are
    counted) as JSON; the cases of retracted papers only with `retracted`, as there."""
    summary = answers.entity_summary(diagnosis, retracted=retracted)
    course = summary["course"]
    return {
        "cases": summary["n_cases"],
        "papers": summary["n_papers"],
        "evidence_grades": {code: n for code, _label, n in summary["grades"]},
        "age_years": {key: _n(value) for key, value in summary["age"].items()},
        "sex": summary["sex"],
        "sites": [{"code": code, "name": name, "cases": n} for code, name, n in summary["sites"]],
        "size_mm": {"n": summary["size"]["n"], "median": _n(summary["size"]["median"])},
        "ihc": [
            {
                "marker": rate.marker,
                "positive": rate.positive,
                "tested": rate.tested,
                "percent": rate.percent,
                "clones": rate.clones,
                "few": rate.few,
            }
            for rate in summary["ihc"]
        ],
        "fusions": [
            {"notation": f["notation"], "method": f["method"], "cases": f["n"]}
            for f in summary["fusions"]
        ],
        "molecular_findings": [
            {"finding": f["finding"], "method": f["method"], "cases": f["n"]}
            for f in summary["findings"]
        ],
        "treatments": [{"treatment": kind, "cases": n} for kind, n in summary["treatments"]],
        "course": {
            "followed": course["followed"],
            "median_follow_up_months": _n(course["median_follow_up"]),
            "recurrence": course["recurrence"],
            "metastasis": course["metastasis"],
            "death_of_disease": course["death_of_disease"],
        },
        "newest_cases": [case.pk for case in summary["newest"]],
    }


class DiagnosisDetailSerializer(DiagnosisSerializer):
    statistics = serializers.SerializerMethodField(
        help_text="The entity page's statistics over its published cases"
    )

    class Meta(DiagnosisSerializer.Meta):
        fields = [*DiagnosisSerializer.Meta.fields, "statistics"]
        read_only_fields = fields

    @extend_schema_field(_Statistics)
    def get_statistics(self, diagnosis) -> dict:
        return entity_statistics(diagnosis, retracted=self.context.get("retracted", False))


class MarkerSerializer(serializers.ModelSerializer):
    gene = serializers.CharField(source="gene.symbol", default=None, allow_null=True)
    gene_hgnc_id = serializers.CharField(source="gene.hgnc_id", default=None, allow_null=True)

    class Meta:
        model = Marker
        fields = ["id", "name", "gene", "gene_hgnc_id", "synonyms"]
        read_only_fields = fields


class PartnerSerializer(serializers.Serializer):
    symbol = serializers.CharField(help_text="The partner's HGNC symbol; empty: unknown")
    notation = serializers.CharField(help_text="5'::3', e.g. CARS1::ALK")
    cases = serializers.IntegerField(help_text="Published cases with this fusion")


class GeneSerializer(serializers.ModelSerializer):
    class Meta:
        model = Gene
        fields = ["id", "hgnc_id", "symbol", "name", "previous_symbols", "alias_symbols"]
        read_only_fields = fields


class GeneDetailSerializer(GeneSerializer):
    partners_as_five_prime = serializers.SerializerMethodField()
    partners_as_three_prime = serializers.SerializerMethodField()

    class Meta(GeneSerializer.Meta):
        fields = [*GeneSerializer.Meta.fields, "partners_as_five_prime", "partners_as_three_prime"]
        read_only_fields = fields

    @extend_schema_field(PartnerSerializer(many=True))
    def get_partners_as_five_prime(self, gene):
        return PartnerSerializer(gene_partners(gene, gene_is="five"), many=True).data

    @extend_schema_field(PartnerSerializer(many=True))
    def get_partners_as_three_prime(self, gene):
        return PartnerSerializer(gene_partners(gene, gene_is="three"), many=True).data


class VocabularyViewSet(V1Mixin, viewsets.ReadOnlyModelViewSet):
    pagination_class = IdCursorPagination
    filterset_class = None
    filter_backends = []
    lookup_value_regex = "[0-9]+"


_VOCABULARY_ERRORS = {304: NOT_MODIFIED, 401: BAD_KEY, 404: NOT_FOUND, 429: TOO_MANY}


@extend_schema_view(
    list=extend_schema(responses={200: DiagnosisSerializer, **_VOCABULARY_ERRORS}),
    retrieve=extend_schema(
        parameters=[
            OpenApiParameter(
                RETRACTED_PARAM,
                str,
                enum=[RETRACTED_INCLUDE],
                description="`include`: count the cases whose paper was retracted too "
                "(left out by default, as on the entity page).",
            )
        ],
        responses={200: DiagnosisDetailSerializer, 400: BAD_REQUEST, **_VOCABULARY_ERRORS},
    ),
)
class DiagnosisViewSet(VocabularyViewSet):
    """Diagnoses (ICD-O-3.2) with their WHO family and number of published cases; one
    diagnosis, by the slug of its entity page, with that page's statistics."""

    lookup_field = "slug"
    lookup_value_regex = "[^/]+"

    def get_serializer_class(self):
        return DiagnosisDetailSerializer if self.action == "retrieve" else DiagnosisSerializer

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.action == "retrieve":
            # Every value given must be `include` (an empty or repeated one too): the API
            # refuses what it would not do, as its filters do.
            values = self.request.query_params.getlist(RETRACTED_PARAM)
            for value in values:
                included, error = read_retracted({RETRACTED_PARAM: value})
                if not included:
                    raise ValidationError(
                        {RETRACTED_PARAM: [error or "Give retracted=include, or leave it out."]}
                    )
            context["retracted"] = bool(values)
        return context

    def get_object(self):
        found = answers.find_diagnosis(self.kwargs["slug"])
        if found is None:
            raise NotFound("No such diagnosis in RareDerm's list.")
        found.published_cases = (
            Diagnosis.objects.filter(pk=found.pk)
            .annotate(published_cases=_published_cases())
            .values_list("published_cases", flat=True)
            .get()
        )
        return found

    def get_queryset(self):
        return Diagnosis.objects.select_related("family").annotate(
            published_cases=_published_cases()
        )


@extend_schema_view(
    list=extend_schema(responses={200: GeneSerializer, **_VOCABULARY_ERRORS}),
    retrieve=extend_schema(responses={200: GeneDetailSerializer, **_VOCABULARY_ERRORS}),
)
class GeneViewSet(VocabularyViewSet):
    """Genes (HGNC); one gene with its fusion partners in published cases."""

    def get_serializer_class(self):
        return GeneDetailSerializer if self.action == "retrieve" else GeneSerializer

    def get_queryset(self):
        return Gene.objects.all()


@extend_schema_view(
    list=extend_schema(responses={200: MarkerSerializer, **_VOCABULARY_ERRORS}),
    retrieve=extend_schema(responses={200: MarkerSerializer, **_VOCABULARY_ERRORS}),
)
class MarkerViewSet(VocabularyViewSet):
    """IHC markers with their gene (HGNC) where there is one."""

    serializer_class = MarkerSerializer

    def get_queryset(self):
        return Marker.objects.select_related("gene")


# -- citations of published cases ---------------------------------------------------


class CitationV1Serializer(serializers.ModelSerializer):
    title = serializers.SerializerMethodField(help_text="Plain text (PubMed's markup removed)")
    authors = serializers.SerializerMethodField(help_text="In PubMed's order, “McCollum KJ”")
    year = serializers.SerializerMethodField()
    csl = serializers.SerializerMethodField(help_text="The reference as CSL-JSON")
    published_cases = serializers.IntegerField(help_text="Published cases citing it first")

    class Meta:
        model = Citation
        fields = [
            "pmid",
            "doi",
            "pmcid",
            "title",
            "authors",
            "journal",
            "journal_iso",
            "year",
            "volume",
            "issue",
            "pages",
            "retracted",
            "published_cases",
            "csl",
        ]
        read_only_fields = fields

    def get_title(self, citation) -> str:
        return citation_exports.plain_title(citation)

    def get_authors(self, citation) -> list[str]:
        return [str(author) for author in citation_exports.authors_of(citation)]

    def get_year(self, citation) -> int | None:
        return citation_exports.year_of(citation)

    @extend_schema_field({"type": "object", "additionalProperties": True})
    def get_csl(self, citation) -> dict:
        return citation_exports.to_csl(citation)


class CitationCursorPagination(pagination.CursorPagination):
    ordering = ("-pmid",)
    page_size = 100


@extend_schema_view(
    list=extend_schema(responses={200: CitationV1Serializer, **_VOCABULARY_ERRORS}),
    retrieve=extend_schema(responses={200: CitationV1Serializer, **_VOCABULARY_ERRORS}),
)
class CitationViewSet(VocabularyViewSet):
    """The papers of published cases, by PMID (newest PMIDs first)."""

    serializer_class = CitationV1Serializer
    pagination_class = CitationCursorPagination
    lookup_field = "pmid"

    def get_queryset(self):
        return (
            Citation.objects.filter(cases__status="published")
            .distinct()
            .annotate(
                published_cases=Count("cases", filter=Q(cases__status="published"), distinct=True)
            )
            .with_authors()
        )


router = routers.SimpleRouter()
router.register("cases", CaseViewSetV1, basename="api-v1-case")
router.register("releases", ReleaseViewSet, basename="api-v1-release")
router.register("diagnoses", DiagnosisViewSet, basename="api-v1-diagnosis")
router.register("genes", GeneViewSet, basename="api-v1-gene")
router.register("markers", MarkerViewSet, basename="api-v1-marker")
router.register("citations", CitationViewSet, basename="api-v1-citation")
router.register("drafts", DraftViewSet, basename="api-v1-draft")
