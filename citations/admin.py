from django.contrib import admin

from citations.models import (
    Author,
    Citation,
    FetchBatch,
    FetchJob,
    FetchJobItem,
    SavedSearch,
    SavedSearchRun,
)


class AuthorInline(admin.TabularInline):
    model = Author
    extra = 0
    fields = (
        "position",
        "last_name",
        "fore_name",
        "initials",
        "suffix",
        "collective_name",
        "orcid",
    )
    ordering = ("position",)


@admin.register(Citation)
class CitationAdmin(admin.ModelAdmin):
    list_display = ("pmid", "short_title", "journal_iso", "year", "retracted", "fetch_status")
    list_filter = ("fetch_status", "retracted", "year")
    search_fields = ("=pmid", "doi", "title", "journal")
    ordering = ("-pmid",)
    readonly_fields = ("created_at", "updated_at", "fetched_at", "raw_xml")
    inlines = [AuthorInline]

    @admin.display(description="title")
    def short_title(self, obj: Citation) -> str:
        return obj.title[:80]


class FetchJobItemInline(admin.TabularInline):
    model = FetchJobItem
    extra = 0
    fields = ("position", "query", "pmid", "status", "error", "tries", "citation")
    readonly_fields = fields
    ordering = ("position",)
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class FetchBatchInline(admin.TabularInline):
    """Which worker holds each batch, when it last beat, how often it was sent and started."""

    model = FetchBatch
    extra = 0
    fields = (
        "state",
        "worker",
        "heartbeat_at",
        "queued_at",
        "sends",
        "runs",
        "started_at",
        "finished_at",
    )
    readonly_fields = fields
    ordering = ("pk",)
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(FetchJob)
class FetchJobAdmin(admin.ModelAdmin):
    list_display = ("pk", "state", "source", "requested_by", "created_at", "finished_at")
    list_filter = ("state",)
    ordering = ("-pk",)
    readonly_fields = ("created_at", "queued_at", "started_at", "finished_at", "heartbeat_at")
    raw_id_fields = ("requested_by",)
    inlines = [FetchBatchInline, FetchJobItemInline]


@admin.register(SavedSearch)
class SavedSearchAdmin(admin.ModelAdmin):
    list_display = ["name", "schedule", "enabled", "covered_until", "last_run_at"]
    list_editable = ["enabled"]
    readonly_fields = ["covered_until", "last_run_at", "created_by"]

    def has_add_permission(self, request):
        # Added with `manage.py add_saved_search`, which asks PubMed first.
        return False


@admin.register(SavedSearchRun)
class SavedSearchRunAdmin(admin.ModelAdmin):
    list_display = ["search", "state", "started_at", "found", "fetched", "added", "failed"]
    list_filter = ["state"]
    readonly_fields = [f.name for f in SavedSearchRun._meta.fields]

    def has_add_permission(self, request):
        return False
