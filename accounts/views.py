"""A user's choice of how public pages name them."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.models import PublicName, public_name


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
