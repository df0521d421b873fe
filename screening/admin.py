from django.contrib import admin

from screening.models import ExclusionReason, HighlightTerm


@admin.register(ExclusionReason)
class ExclusionReasonAdmin(admin.ModelAdmin):
    list_display = ["label", "position", "active"]
    list_editable = ["position", "active"]


@admin.register(HighlightTerm)
class HighlightTermAdmin(admin.ModelAdmin):
    list_display = ["term"]
