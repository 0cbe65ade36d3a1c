"""Sign-in, sign-up, sign-out and profile pages; every write goes through accounts.services."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as session_login
from django.contrib.auth import logout as session_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from accounts import services
from accounts.forms import (
    LoginForm,
    PasswordChangeForm,
    ProfileForm,
    RegisterForm,
    add_domain_errors,
)
from accounts.throttle import client_address
from videohost.errors import DomainError, RateLimited

SESSION_BACKEND = "accounts.backends.CaseInsensitiveModelBackend"


def _safe_next(request: HttpRequest, default: str) -> str:
    """The `next` target if it stays on this site, else `default` (no open redirect)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _next_field(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    return target if _safe_next(request, "") == target else ""


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    status, retry_after = 200, None
    if request.method == "POST" and form.is_valid():
        try:
            user = services.auth_login(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                client_ip=client_address(request),
            )
        except RateLimited as error:
            form.add_error(None, error.message)
            status, retry_after = 429, error.retry_after
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            session_login(request, user, backend=SESSION_BACKEND)
            return redirect(_safe_next(request, settings.LOGIN_REDIRECT_URL))
    if request.method == "POST" and status == 200:
        status = 400
    context = {"form": form, "next": _next_field(request)}
    response = render(request, "accounts/login.html", context, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


@sensitive_post_parameters("password1", "password2")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def register_view(request: HttpRequest) -> HttpResponse:
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_register(
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
            )
        except DomainError as error:
            add_domain_errors(form, error, rename={"password": "password1"})
        else:
            session_login(request, user, backend=SESSION_BACKEND)
            messages.success(request, f"Welcome to {settings.SITE_NAME}, {user.username}!")
            return redirect(_safe_next(request, reverse("studio")))
    context = {"form": form, "next": _next_field(request)}
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/register.html", context, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    session_logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def profile_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    profile_form = ProfileForm(initial={"display_name": user.display_name, "bio": user.bio})
    password_form = PasswordChangeForm()
    status = 200
    if request.method == "POST" and request.POST.get("form") == "password":
        password_form = PasswordChangeForm(request.POST)
        if password_form.is_valid():
            try:
                services.user_change_password(
                    user=user,
                    old_password=password_form.cleaned_data["old_password"],
                    new_password=password_form.cleaned_data["new_password1"],
                )
            except DomainError as error:
                add_domain_errors(password_form, error, rename={"new_password": "new_password1"})
            else:
                # The new password hash would sign this session out along with the others.
                update_session_auth_hash(request, user)
                messages.success(request, "Your password was changed.")
                return redirect("profile")
        status = 400
    elif request.method == "POST":
        profile_form = ProfileForm(request.POST, request.FILES)
        if profile_form.is_valid():
            data = profile_form.cleaned_data
            try:
                services.user_update_profile(
                    user=user,
                    display_name=data["display_name"],
                    bio=data["bio"],
                    avatar=data["avatar"] or None,
                    remove_avatar=data["remove_avatar"],
                )
            except DomainError as error:
                add_domain_errors(profile_form, error)
            else:
                messages.success(request, "Your profile was saved.")
                return redirect("profile")
        status = 400
    context = {"profile_form": profile_form, "password_form": password_form}
    return render(request, "accounts/profile.html", context, status=status)
