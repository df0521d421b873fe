"""Readers register themselves (/accounts/register/): an account with no role, inactive until
the link e-mailed to its address (signed, valid CONFIRM_DAYS days) is opened.

A reader reads like the public and may subscribe to e-mail digests (curation's
subscriptions); roles (curator, reviewer) are still given by an admin. At most
REGISTRATION_RATE_LIMIT registrations per client address in REGISTRATION_RATE_MINUTES.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import Registration
from accounts.throttle import client_key as make_client_key
from config.site import absolute_url
from outbox.actions import queue_emails

CONFIRM_DAYS = 3
SALT = "accounts.confirm-email"


class LinkRefused(Exception):
    """A confirmation link that is forged, mangled or too old: the message says which."""


def too_many(address: str) -> int:
    """How many registrations this client address made in the window, if that is too many
    (else 0)."""
    if not address:
        return 0
    since = timezone.now() - timedelta(minutes=settings.REGISTRATION_RATE_MINUTES)
    recent = Registration.objects.filter(
        client_key=make_client_key(address), created_at__gte=since
    ).count()
    return recent if recent >= settings.REGISTRATION_RATE_LIMIT else 0


def forget_unconfirmed(username: str, email: str) -> None:
    """An account never confirmed within CONFIRM_DAYS frees its name and address."""
    stale = timezone.now() - timedelta(days=CONFIRM_DAYS)
    users = get_user_model().objects.filter(
        is_active=False,
        registration__confirmed_at__isnull=True,
        registration__created_at__lt=stale,
    )
    users.filter(username__iexact=username).delete()
    users.filter(email__iexact=email).delete()


def register(username: str, email: str, password: str, *, address: str = ""):
    """Make the inactive account and e-mail its confirmation link (through the outbox)."""
    with transaction.atomic():
        user = get_user_model().objects.create_user(
            username=username, email=email, password=password, is_active=False
        )
        Registration.objects.create(
            user=user, client_key=make_client_key(address) if address else ""
        )
        token = signing.dumps(user.pk, salt=SALT)
        body = render_to_string(
            "registration/email/confirm.txt",
            {
                "user": user,
                "link": absolute_url(reverse("confirm_email", args=[token])),
                "days": CONFIRM_DAYS,
            },
        )
        message = EmailMessage("[RareDerm] Confirm your e-mail address", body, to=[email])
        queue_emails([message], kind="confirm e-mail", keys=[f"confirm-email:{user.pk}"])
    return user


def confirm(token: str):
    """The account whose link this is, now active. LinkRefused otherwise."""
    try:
        user_id = signing.loads(token, salt=SALT, max_age=timedelta(days=CONFIRM_DAYS))
    except signing.SignatureExpired:
        raise LinkRefused(
            f"This link is more than {CONFIRM_DAYS} days old. Register again: the name and "
            "address are free once an account is not confirmed in time."
        ) from None
    except signing.BadSignature:
        raise LinkRefused(
            "This link is not one RareDerm sent (it may have been cut short by your e-mail "
            "program): open the whole link from the e-mail."
        ) from None
    with transaction.atomic():
        user = get_user_model().objects.select_for_update().filter(pk=user_id).first()
        registration = Registration.objects.filter(user_id=user_id).first()
        if user is None or registration is None:
            raise LinkRefused("This account no longer exists: register again.")
        if registration.confirmed_at is None:
            registration.confirmed_at = timezone.now()
            registration.save(update_fields=["confirmed_at"])
            user.is_active = True
            user.save(update_fields=["is_active"])
    return user
