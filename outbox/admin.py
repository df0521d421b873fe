"""What the outbox holds, for admins: what is stuck, why, and "send again".

The e-mails' text may name cases under review, so only superusers see them
(no role is given the outbox's permissions).
"""

from datetime import timedelta

from django.contrib import admin, messages
from django.db.models import Q
from django.utils import timezone

from outbox import actions
from outbox.models import Email


class NeedsAttentionFilter(admin.SimpleListFilter):
    title = "needs attention"
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [
            ("stuck", "Stuck: gave up, failing, or waiting over 10 minutes"),
            ("failed", "Gave up"),
            ("retrying", "Failed, will try again"),
        ]

    def queryset(self, request, queryset):
        pending = Q(state=Email.State.PENDING)
        if self.value() == "failed":
            return queryset.filter(state=Email.State.FAILED)
        if self.value() == "retrying":
            return queryset.filter(pending, attempts__gt=0)
        if self.value() == "stuck":
            old = timezone.now() - timedelta(minutes=10)
            return queryset.filter(
                Q(state=Email.State.FAILED)
                | (pending & (Q(attempts__gt=0) | Q(created_at__lt=old)))
            )
        return queryset


@admin.register(Email)
class EmailAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "kind",
        "recipients",
        "subject",
        "state",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "short_error",
    )
    list_filter = (NeedsAttentionFilter, "state", "kind")
    search_fields = ("subject", "to", "key")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-pk")
    actions = ["send_again"]
    fields = (
        "kind",
        "key",
        "state",
        "from_email",
        "to",
        "subject",
        "body",
        "headers",
        "message_id",
        "created_at",
        "queued_at",
        "attempts",
        "next_attempt_at",
        "last_error",
        "sent_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="to")
    def recipients(self, obj: Email) -> str:
        return ", ".join(obj.to)

    @admin.display(description="last error")
    def short_error(self, obj: Email) -> str:
        return obj.last_error[:120]

    @admin.action(description="Send again now (not those already sent)")
    def send_again(self, request, queryset):
        count = actions.send_again(queryset.values_list("pk", flat=True))
        self.message_user(
            request, f"{count} e-mail(s) will be sent again.", level=messages.SUCCESS
        )
