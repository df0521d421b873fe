"""Error flags (issue 17): anyone flags a published case; a curator resolves the flag
by starting a revision or dismissing it with a reason; the flagger (when they gave an
e-mail) is told, through the outbox, in the same transaction as the decision.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from accounts.roles import CURATOR, has_role
from accounts.throttle import client_key
from config.site import absolute_url
from config.text import stored_text
from curation import workflow
from curation.actions.review import RevisionExists, start_revision
from curation.models import Case, CaseFlag
from outbox.actions import queue_emails

MAX_MESSAGE = 2000  # characters of a flag's text


class FlagRefused(Exception):
    """The flag or the decision cannot be taken; `errors` says why, by field."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class FlagThrottled(FlagRefused):
    """Too many flags from this client lately."""


def may_resolve(user) -> bool:
    """Curators (and reviewers, who may all a curator may) work the flag queue."""
    return has_role(user, CURATOR)


@transaction.atomic
def flag_case(case: Case, *, message: str, email: str = "", address: str = "") -> CaseFlag:
    """Record a reader's report of a possible error in a published case."""
    if case.status != workflow.PUBLISHED or case.revision_of_id:
        raise FlagRefused({"__all__": "Only a published case can be flagged."})
    errors = {}
    text = stored_text(message or "").strip()
    if not text:
        errors["message"] = "Say what looks wrong, e.g. “the age is 48 in the paper, not 38”."
    elif len(text) > MAX_MESSAGE:
        errors["message"] = f"Keep it under {MAX_MESSAGE} characters ({len(text)} now)."
    email = (email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = "This is not an e-mail address; leave it empty to stay anonymous."
    if errors:
        raise FlagRefused(errors)
    key = client_key(address) if address else ""
    if key:
        since = timezone.now() - timedelta(minutes=settings.FLAG_RATE_MINUTES)
        recent = CaseFlag.objects.filter(client_key=key, created_at__gte=since).count()
        if recent >= settings.FLAG_RATE_LIMIT:
            raise FlagThrottled(
                {
                    "__all__": (
                        f"You have sent {recent} flags in the last "
                        f"{settings.FLAG_RATE_MINUTES} minutes; please try again later. "
                        "Your text is kept below."
                    )
                }
            )
    return CaseFlag.objects.create(case=case, message=text, email=email, client_key=key)


def _tell_flagger(flag: CaseFlag, body: str) -> None:
    if not flag.email:
        return
    message = EmailMessage(
        subject=f"Your report on {flag.case.number}",
        body=(
            f"You reported a possible error in {flag.case.number} "
            f"({absolute_url(flag.case.get_absolute_url())}):\n\n"
            f"“{flag.message}”\n\n{body}\n\nThank you for helping keep RareDerm right.\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[flag.email],
    )
    queue_emails([message], kind="flag", keys=[f"flag-{flag.pk}-{flag.status}"])


def _lock_open(flag: CaseFlag, by) -> CaseFlag:
    if not may_resolve(by):
        raise FlagRefused({"__all__": "Only a curator may resolve a flag."})
    locked = CaseFlag.objects.select_for_update().select_related("case").get(pk=flag.pk)
    if locked.status != CaseFlag.Status.OPEN:
        raise FlagRefused({"__all__": "This flag has been resolved already."})
    return locked


@transaction.atomic
def resolve_flag_with_revision(flag: CaseFlag, *, by) -> Case:
    """Start a revision of the flagged case for `by` (or join the open one); close the flag."""
    locked = _lock_open(flag, by)
    try:
        revision = start_revision(locked.case, by)
    except RevisionExists as exists:
        revision = exists.revision
    locked.status = CaseFlag.Status.REVISION
    locked.revision = revision
    locked.resolved_by = by
    locked.resolved_at = timezone.now()
    locked.save(update_fields=["status", "revision", "resolved_by", "resolved_at"])
    _tell_flagger(
        locked,
        "A curator has started a revision of the case to correct it. The public record "
        "changes once a reviewer approves the revision.",
    )
    return revision


@transaction.atomic
def dismiss_flag(flag: CaseFlag, *, by, reason: str) -> CaseFlag:
    """Close the flag without a change, saying why (the flagger is told the reason)."""
    reason = stored_text(reason or "").strip()
    if not reason:
        raise FlagRefused({"reason": "Say why the flag is dismissed (the flagger is told)."})
    locked = _lock_open(flag, by)
    locked.status = CaseFlag.Status.DISMISSED
    locked.reason = reason
    locked.resolved_by = by
    locked.resolved_at = timezone.now()
    locked.save(update_fields=["status", "reason", "resolved_by", "resolved_at"])
    _tell_flagger(locked, f"A curator checked it and left the case as it is:\n\n{reason}")
    return locked
