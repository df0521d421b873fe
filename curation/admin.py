from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from curation.models import (
    Case,
    CaseEvent,
    Clone,
    Diagnosis,
    DiagnosisCategory,
    DiagnosisFamily,
    FusionFinding,
    Gene,
    GeneSymbol,
    IHCResult,
    Marker,
    TermProposal,
    Topography,
    VocabularyVersion,
)

# -- vocabularies ---------------------------------------------------------------


@admin.register(VocabularyVersion)
class VocabularyVersionAdmin(admin.ModelAdmin):
    list_display = ("vocabulary", "code_system", "version", "loaded_at")
    readonly_fields = ("vocabulary", "code_system", "version", "sources", "loaded_at")

    def has_add_permission(self, request):
        return False


@admin.register(DiagnosisCategory)
class DiagnosisCategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "position")
    ordering = ("position",)


@admin.register(DiagnosisFamily)
class DiagnosisFamilyAdmin(admin.ModelAdmin):
    list_display = ("name", "category", "position")
    list_filter = ("category",)
    list_select_related = ("category",)
    ordering = ("category__position", "position")


@admin.register(Diagnosis)
class DiagnosisAdmin(admin.ModelAdmin):
    list_display = ("name", "icdo3_code", "family", "rank", "parent", "synonyms")
    list_filter = ("family__category", "rank", ("icdo3_code", admin.EmptyFieldListFilter))
    list_select_related = ("family", "parent")
    search_fields = ("name", "icdo3_code", "synonyms", "older_names", "search_terms")
    autocomplete_fields = ("parent",)
    ordering = ("name",)


@admin.register(Topography)
class TopographyAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")
    ordering = ("code",)


class GeneSymbolInline(admin.TabularInline):
    model = GeneSymbol
    extra = 0
    fields = ("key", "kind")
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = "lookup symbols (rebuilt from the fields above on save)"

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Gene)
class GeneAdmin(admin.ModelAdmin):
    list_display = ("symbol", "hgnc_id", "name", "previous_symbols", "alias_symbols")
    list_filter = (("hgnc_id", admin.EmptyFieldListFilter),)
    search_fields = ("symbol", "=hgnc_id", "name", "lookup__key")
    ordering = ("symbol",)
    inlines = [GeneSymbolInline]


@admin.register(GeneSymbol)
class GeneSymbolAdmin(admin.ModelAdmin):
    list_display = ("key", "kind", "gene")
    list_filter = ("kind",)
    search_fields = ("key", "gene__symbol")
    list_select_related = ("gene",)
    readonly_fields = ("gene", "key", "kind")
    ordering = ("key",)


class CloneInline(admin.TabularInline):
    model = Clone
    extra = 0
    fields = ("name", "source")


@admin.register(Marker)
class MarkerAdmin(admin.ModelAdmin):
    list_display = ("name", "gene", "synonyms")
    list_filter = (("gene", admin.EmptyFieldListFilter),)
    search_fields = ("name", "synonyms", "gene__symbol")
    list_select_related = ("gene",)
    autocomplete_fields = ("gene",)
    ordering = ("name",)
    inlines = [CloneInline]


# -- cases ------------------------------------------------------------------------


class IHCResultInline(admin.TabularInline):
    model = IHCResult
    extra = 0
    fields = (
        "position",
        "marker",
        "clone",
        "result",
        "intensity",
        "extent",
        "pattern",
        "percent_cells",
        "as_reported",
    )
    autocomplete_fields = ("marker",)
    ordering = ("position", "pk")


class FusionFindingInline(admin.TabularInline):
    model = FusionFinding
    extra = 0
    fields = (
        "position",
        "five_prime_gene",
        "three_prime_gene",
        "five_prime_exon",
        "three_prime_exon",
        "method",
        "as_reported",
    )
    autocomplete_fields = ("five_prime_gene", "three_prime_gene")
    ordering = ("position", "pk")


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    extra = 0
    fields = ("created_at", "kind", "actor", "role", "from_status", "to_status", "comment")
    readonly_fields = fields
    can_delete = False
    ordering = ("created_at", "pk")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(SimpleHistoryAdmin):
    list_display = (
        "__str__",
        "citation",
        "final_diagnosis",
        "topography",
        "status",
        "version",
        "updated_at",
    )
    list_filter = ("status", "final_diagnosis", "topography", "sex", "outcome")
    search_fields = ("=id", "label", "=citation__pmid", "citation__title", "site_detail")
    list_select_related = ("citation", "final_diagnosis", "topography")
    autocomplete_fields = (
        "citation",
        "other_citations",
        "topography",
        "initial_diagnosis",
        "final_diagnosis",
        "differentials",
        "revision_of",
    )
    # The workflow moves only through curation.actions.cases.transition.
    readonly_fields = (
        "status",
        "version",
        "created_by",
        "created_at",
        "updated_at",
        "submitted_at",
        "published_at",
    )
    inlines = [IHCResultInline, FusionFindingInline, CaseEventInline]
    ordering = ("-updated_at",)

    def save_model(self, request, obj, form, change):
        if change:
            obj.version += 1  # an admin edit invalidates open edit forms too
        else:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(IHCResult)
class IHCResultAdmin(SimpleHistoryAdmin):
    list_display = ("case", "marker", "clone", "result", "intensity", "extent")
    list_filter = ("result", "intensity", "extent", "marker")
    search_fields = ("=case__id", "marker__name", "clone", "as_reported")
    list_select_related = ("case", "marker")
    autocomplete_fields = ("case", "marker")


@admin.register(FusionFinding)
class FusionFindingAdmin(SimpleHistoryAdmin):
    list_display = ("case", "__str__", "method", "as_reported")
    list_filter = ("method", ("five_prime_gene", admin.EmptyFieldListFilter))
    search_fields = (
        "=case__id",
        "five_prime_gene__symbol",
        "three_prime_gene__symbol",
        "as_reported",
    )
    list_select_related = ("case", "five_prime_gene", "three_prime_gene")
    autocomplete_fields = ("case", "five_prime_gene", "three_prime_gene")


@admin.register(CaseEvent)
class CaseEventAdmin(admin.ModelAdmin):
    """The audit trail: read only."""

    list_display = ("created_at", "case", "kind", "actor", "role", "from_status", "to_status")
    list_filter = ("kind", "to_status", "role")
    search_fields = ("=case__id", "actor__username", "comment")
    list_select_related = ("case", "actor")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TermProposal)
class TermProposalAdmin(admin.ModelAdmin):
    """Read here; decided on the review page (curation.actions.proposals), which updates cases."""

    list_display = ("text", "kind", "field", "case", "status", "proposed_by", "created_at")
    list_filter = ("status", "kind")
    search_fields = ("text", "code", "=case__id")
    list_select_related = ("case", "proposed_by")
    readonly_fields = [f.name for f in TermProposal._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
