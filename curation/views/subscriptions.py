"""Readers' subscriptions (curation/subscriptions.py): subscribe from a diagnosis's page, a
gene's page or any search; list and remove them; unsubscribe from an e-mail's link."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from curation import subscriptions
from curation.models import Subscription


def _back(request, default: str = "curation:subscriptions"):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(default)


@require_POST
def subscribe(request):
    """A signed-in reader subscribes to what a search finds (the form on the page)."""
    if not request.user.is_authenticated:
        messages.error(request, "Log in (or make a reader's account) to subscribe.")
        return _back(request, "login")
    try:
        made = subscriptions.subscribe(
            request.user,
            request.POST.get("kind", ""),
            request.POST.get("query", ""),
            request.POST.get("label", ""),
            request.POST.get("frequency", Subscription.Frequency.WEEKLY),
        )
    except ValidationError as exc:
        messages.error(request, "Not subscribed: " + " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"Subscribed to “{made.label}”: a {made.get_frequency_display().lower()} e-mail "
            f"to {request.user.email} when it has new or revised cases.",
        )
    return _back(request)


@login_required
@require_GET
def subscription_list(request):
    return render(
        request,
        "curation/subscriptions.html",
        {"subscriptions": Subscription.objects.filter(user=request.user).order_by("label")},
    )


@login_required
@require_POST
def subscription_delete(request, pk: int):
    subscription = get_object_or_404(Subscription, pk=pk, user=request.user)
    subscription.delete()
    messages.success(request, f"Unsubscribed from “{subscription.label}”.")
    return redirect("curation:subscriptions")


@csrf_exempt  # the signed token is the authority; mail programs post without a form
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """GET: a page with one button (link scanners do not unsubscribe anyone); POST (the
    button, or a mail program's List-Unsubscribe-Post): done."""
    try:
        user_id, subscription_id = subscriptions.read_unsubscribe_token(token)
    except ValidationError as exc:
        return render(
            request, "curation/unsubscribe.html", {"error": " ".join(exc.messages)}, status=400
        )
    named = Subscription.objects.filter(user_id=user_id)
    if subscription_id is not None:
        named = named.filter(pk=subscription_id)
    if request.method == "POST":
        removed = subscriptions.unsubscribe(token)
        return render(request, "curation/unsubscribe.html", {"done": True, "removed": removed})
    return render(
        request,
        "curation/unsubscribe.html",
        {"subscriptions": list(named.order_by("label")), "all": subscription_id is None},
    )
