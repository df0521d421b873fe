from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from django.utils.html import format_html
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
    VocabularyEdit,
    VocabularyVersion,
)

# -- vocabularies ---------------------------------------------------------------
#
# Reviewers edit vocabularies here. Every edit (add, change, delete, the
# "delete selected" action included) is kept as a VocabularyEdit — who, when,
# the term before and after, its inline rows (a marker's clones) included —
# and shown in the activity log.


def term_snapshot(obj, inlines=()) -> dict:
    """The term's fields as JSON-ready values (related terms by name), plus its inline rows."""
    values = {}
    for field in obj._meta.concrete_fields:
        if field.primary_key:
            continue
        value = getattr(obj, field.name)
        if field.is_relation:
            value = str(value) if value is not None else None
        elif not isinstance(value, (str, int, float, bool, list, dict, type(None))):
            value = str(value)
        values[field.name] = value
    for inline in inlines:
        related = inline.model._meta
        accessor = next(
            f.get_accessor_name()
            for f in obj._meta.related_objects
            if f.related_model is inline.model
        )
        values[str(related.verbose_name_plural)] = sorted(
            str(row) for row in getattr(obj, accessor).all()
        )
    return values


class LoggedVocabularyAdmin(admin.ModelAdmin):
    """A vocabulary admin whose every edit becomes a VocabularyEdit."""

    def _snapshot(self, obj) -> dict:
        return term_snapshot(obj, self.inlines)

    def _log(self, request, obj, action, before, after) -> None:
        VocabularyEdit.objects.create(
            actor=request.user,
            action=action,
            vocabulary=str(obj._meta.verbose_name),
            term_id=obj.pk,
            term=str(obj)[:300],
            before=before,
            after=after,
        )

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and request.method == "POST":
            request._vocabulary_before = self._snapshot(obj)
        return obj

    def log_addition(self, request, obj, message):
        self._log(request, obj, VocabularyEdit.Action.ADDED, {}, self._snapshot(obj))
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        before = getattr(request, "_vocabulary_before", {})
        self._log(request, obj, VocabularyEdit.Action.CHANGED, before, self._snapshot(obj))
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            self._log(request, obj, VocabularyEdit.Action.DELETED, self._snapshot(obj), {})
        return super().log_deletions(request, queryset)


@admin.register(VocabularyVersion)
class VocabularyVersionAdmin(admin.ModelAdmin):
    list_display = ("vocabulary", "code_system", "version", "loaded_at")
    readonly_fields = ("vocabulary", "code_system", "version", "sources", "loaded_at")

    def has_add_permission(self, request):
        return False


@admin.register(DiagnosisCategory)
class DiagnosisCategoryAdmin(LoggedVocabularyAdmin):
    list_display = ("name", "position")
    ordering = ("position",)


@admin.register(DiagnosisFamily)
class DiagnosisFamilyAdmin(LoggedVocabularyAdmin):
    list_display = ("name", "category", "position")
    list_filter = ("category",)
    list_select_related = ("category",)
    ordering = ("category__position", "position")


@admin.register(Diagnosis)
class DiagnosisAdmin(LoggedVocabularyAdmin):
    list_display = ("name", "icdo3_code", "family", "rank", "parent", "synonyms")
    list_filter = ("family__category", "rank", ("icdo3_code", admin.EmptyFieldListFilter))
    list_select_related = ("family", "parent")
    search_fields = ("name", "icdo3_code", "synonyms", "older_names", "search_terms")
    autocomplete_fields = ("parent",)
    ordering = ("name",)


@admin.register(Topography)
class TopographyAdmin(LoggedVocabularyAdmin):
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
class GeneAdmin(LoggedVocabularyAdmin):
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
class MarkerAdmin(LoggedVocabularyAdmin):
    list_display = ("name", "gene", "synonyms")
    list_filter = (("gene", admin.EmptyFieldListFilter),)
    search_fields = ("name", "synonyms", "gene__symbol")
    list_select_related = ("gene",)
    autocomplete_fields = ("gene",)
    ordering = ("name",)
    inlines = [CloneInline]


# -- cases ------------------------------------------------------------------------
#
# Case content is read only here, for everybody: a published case changes only
# through a revision that a reviewer approves (curation.actions.review), never
# by an edit or a history "revert" in the admin. And the admin shows each user
# only the cases the review pages show them (Case.objects.visible_to):
# another curator's private draft is not listed, opened or shown in history.

NOT_HERE = "Case records are changed through a revision on the site, not in the admin."


class ReadOnly:
    """No add, change or delete in the admin, for anybody (a mixin for admins and inlines)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class VisibleCasesOnly:
    """Rows of the cases the user may see on the site (Case.objects.visible_to), no others."""

    case_lookup = "case"  # the path from a row to its case ("" for Case itself)

    def get_queryset(self, request):
        visible = Case.objects.visible_to(request.user).values("pk")
        lookup = f"{self.case_lookup}__pk__in" if self.case_lookup else "pk__in"
        return super().get_queryset(request).filter(**{lookup: visible})


class ReadOnlyInline(ReadOnly, admin.TabularInline):
    extra = 0
    can_delete = False


class IHCResultInline(ReadOnlyInline):
    model = IHCResult
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
    ordering = ("position", "pk")


class FusionFindingInline(ReadOnlyInline):
    model = FusionFinding
    fields = (
        "position",
        "five_prime_gene",
        "three_prime_gene",
        "five_prime_exon",
        "three_prime_exon",
        "method",
        "as_reported",
    )
    ordering = ("position", "pk")


class CaseEventInline(ReadOnlyInline):
    model = CaseEvent
    fields = ("created_at", "kind", "actor", "role", "from_status", "to_status", "comment")
    ordering = ("created_at", "pk")


class CaseContentAdmin(ReadOnly, VisibleCasesOnly, SimpleHistoryAdmin):
    """Read only, history without revert, limited to the cases the user may see."""

    def _visible_or_404(self, request, object_id) -> None:
        pk = unquote(object_id)
        if not str(pk).isdigit() or not self.get_queryset(request).filter(pk=pk).exists():
            raise Http404("No such record.")

    def history_view(self, request, object_id, extra_context=None):
        self._visible_or_404(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self._visible_or_404(request, object_id)
        if request.method == "POST":  # a revert, whatever the button says
            raise PermissionDenied(NOT_HERE)
        return super().history_form_view(request, object_id, version_id, extra_context)

    def revert_disabled(self, request, obj=None):
        return True


@admin.register(Case)
class CaseAdmin(CaseContentAdmin):
    case_lookup = ""
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
    readonly_fields = ("change_it",)
    inlines = [IHCResultInline, FusionFindingInline, CaseEventInline]
    ordering = ("-updated_at",)

    @admin.display(description="To change this case")
    def change_it(self, obj):
        if obj.is_published and not obj.revision_of_id:
            return format_html(
                '<a href="{}">Propose a revision</a> on the case\'s page; a reviewer '
                "approves it before the public sees it.",
                reverse("curation:case_detail", args=[obj.pk]),
            )
        return NOT_HERE


@admin.register(IHCResult)
class IHCResultAdmin(CaseContentAdmin):
    list_display = ("case", "marker", "clone", "result", "intensity", "extent")
    list_filter = ("result", "intensity", "extent", "marker")
    search_fields = ("=case__id", "marker__name", "clone", "as_reported")
    list_select_related = ("case", "marker")


@admin.register(FusionFinding)
class FusionFindingAdmin(CaseContentAdmin):
    list_display = ("case", "__str__", "method", "as_reported")
    list_filter = ("method", ("five_prime_gene", admin.EmptyFieldListFilter))
    search_fields = (
        "=case__id",
        "five_prime_gene__symbol",
        "three_prime_gene__symbol",
        "as_reported",
    )
    list_select_related = ("case", "five_prime_gene", "three_prime_gene")


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnly, VisibleCasesOnly, admin.ModelAdmin):
    """The audit trail: read only, of the cases the user may see."""

    list_display = ("created_at", "case", "kind", "actor", "role", "from_status", "to_status")
    list_filter = ("kind", "to_status", "role")
    search_fields = ("=case__id", "actor__username", "comment")
    list_select_related = ("case", "actor")
    date_hierarchy = "created_at"


@admin.register(TermProposal)
class TermProposalAdmin(VisibleCasesOnly, admin.ModelAdmin):
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
