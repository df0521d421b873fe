"""Logging in and out, changing one's password (templates/registration/).

Included without a namespace: Django's auth views and settings.LOGIN_URL
know these pages as "login", "logout", "password_change", "password_change_done".
"""

from django.contrib.auth import views as auth_views
from django.urls import path

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
]

from accounts.views import (  # noqa: E402
    api_tokens,
    confirm_email,
    public_name_settings,
    register,
)

urlpatterns.append(path("name/", public_name_settings, name="public_name_settings"))
urlpatterns.append(path("tokens/", api_tokens, name="api_tokens"))
urlpatterns.append(path("register/", register, name="register"))
urlpatterns.append(path("confirm/<str:token>/", confirm_email, name="confirm_email"))
