from django.urls import re_path

from accounts import api_views

urlpatterns = [
    re_path(r"^auth/register/?$", api_views.RegisterView.as_view(), name="api-register"),
    re_path(r"^auth/login/?$", api_views.LoginView.as_view(), name="api-login"),
    re_path(r"^auth/me/?$", api_views.MeView.as_view(), name="api-me"),
    re_path(r"^auth/password/?$", api_views.PasswordView.as_view(), name="api-password"),
    re_path(r"^auth/logout/?$", api_views.LogoutView.as_view(), name="api-logout"),
]
