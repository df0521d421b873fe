"""A user's account pages: how public pages name them; their API tokens."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.models import ApiToken, PublicName, public_name
from accounts.registration import LinkRefused, confirm, forget_unconfirmed, too_many
from accounts.registration import register as register_reader
from accounts.roles import CURATOR, has_role
from accounts.throttle import client_address
from accounts.tokens import create_token, revoke_token


class PublicNameForm(forms.Form):
    style = forms.ChoiceField(
        label="On public pages (who curated, who reviewed), show",
        choices=PublicName.Style.choices,
        widget=forms.RadioSelect,
    )


@login_required
@require_http_methods(["GET", "POST"])
def public_name_settings(request):
    current = PublicName.objects.filter(user=request.user).first()
    form = PublicNameForm(
        request.POST or None,
        initial={"style": current.style if current else PublicName.Style.FULL},
    )
    if request.method == "POST" and form.is_valid():
        PublicName.objects.update_or_create(
            user=request.user, defaults={"style": form.cleaned_data["style"]}
        )
        request.user.refresh_from_db()
        messages.success(
            request, f"Saved: public pages now name you “{public_name(request.user)}”."
        )
        return redirect("public_name_settings")
    return render(
        request,
        "registration/public_name.html",
        {"form": form, "shown_as": public_name(request.user)},
        status=422 if form.errors else 200,
    )


# -- personal API tokens (issue 17) ---------------------------------------------------


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="What the token is for, e.g. “lab import script”.",
        error_messages={"required": "Give the token a name, so that you can tell it later."},
    )


def _curator(request):
    if not has_role(request.user, CURATOR):
        raise PermissionDenied("API tokens are for curators: they submit case drafts.")


@never_cache  # the answer that makes a token carries its key: no copy in any cache
@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request):
    """The user's tokens; make one (its key shown on this answer only) or revoke one."""
    _curator(request)
    form = ApiTokenForm(request.POST if request.POST.get("action") == "create" else None)
    new_key = ""
    status = 200
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            token = get_object_or_404(
                ApiToken, pk=_token_id(request.POST.get("token", "")), user=request.user
            )
            revoke_token(token)
            messages.success(request, f"Revoked “{token.name}”: its key no longer works.")
            return redirect("api_tokens")
        if form.is_valid():
            token, new_key = create_token(request.user, name=form.cleaned_data["name"])
            form = ApiTokenForm()
            status = 201
        else:
            status = 422
    tokens = ApiToken.objects.filter(user=request.user).order_by("-created_at", "-pk")
    return render(
        request,
        "registration/api_tokens.html",
        {"form": form, "tokens": tokens, "new_key": new_key},
        status=status,
    )


def _token_id(text: str) -> int:
    if not (text.isdigit() and len(text) < 10):
        raise Http404("No such token of yours.")
    return int(text)


# -- readers register themselves (accounts/registration.py) ------------------------------


class RegisterForm(UserCreationForm):
    email = forms.EmailField(
        label="E-mail address",
        help_text="A link to confirm it is sent there; digests you subscribe to go there.",
    )
    # A honeypot: hidden from people (CSS), filled by robots, who are thanked and ignored.
    website = forms.CharField(required=False, label="Leave this empty")

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def clean_email(self):
        email = self.cleaned_data["email"].strip()
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                "An account uses this address already: log in, or confirm it with the link "
                "e-mailed to it."
            )
        return email


@require_http_methods(["GET", "POST"])
def register(request):
    """Anyone makes a reader's account; it opens when its e-mail address is confirmed."""
    if request.method == "POST":
        forget_unconfirmed(request.POST.get("username", ""), request.POST.get("email", ""))
    form = RegisterForm(request.POST or None)
    status = 200
    if request.method == "POST":
        address = client_address(request)
        if request.POST.get("website"):
            return render(request, "registration/register_done.html", {"email": ""})
        recent = too_many(address)
        if recent:
            form.add_error(
                None,
                f"{recent} accounts were made from your address in the last "
                f"{settings.REGISTRATION_RATE_MINUTES} minutes; please try again later.",
            )
            status = 429
        elif form.is_valid():
            data = form.cleaned_data
            register_reader(data["username"], data["email"], data["password1"], address=address)
            return render(request, "registration/register_done.html", {"email": data["email"]})
        else:
            status = 422
    return render(request, "registration/register.html", {"form": form}, status=status)


@require_http_methods(["GET"])
def confirm_email(request, token: str):
    try:
        user = confirm(token)
    except LinkRefused as exc:
        return render(request, "registration/confirm_email.html", {"error": str(exc)}, status=400)
    return render(request, "registration/confirm_email.html", {"confirmed": user})
