"""User moderation.

Staff moderators (is_staff, no explicit permissions) may look at every user and moderate
ordinary ones: ban, edit the display name and bio, take an avatar down. Only superusers
touch staff accounts, permissions, passwords, or create and delete users, so a moderator
cannot raise their own rights.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.utils.html import format_html
from django.utils.translation import ngettext
from knox.models import AuthToken

from accounts.models import User
from accounts.services import user_ban, user_update_profile
from videohost.errors import DomainError
from videohost.moderation import StaffModeratesMixin, is_moderator


class UserCreationAdminForm(AdminUserCreationForm):
    # Django's forms name auth.User in Meta; a swapped user model needs its own.
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "email")


class UserChangeAdminForm(UserChangeForm):
    # Moderators may take an avatar down but not upload one: uploads go through
    # user_update_profile's re-encoding, which the admin's plain file field would skip.
    remove_avatar = forms.BooleanField(required=False, label="Remove avatar")

    class Meta(UserChangeForm.Meta):
        model = User


@admin.register(User)
class UserAdmin(StaffModeratesMixin, DjangoUserAdmin):
    form = UserChangeAdminForm
    add_form = UserCreationAdminForm
    list_display = (
        "username",
        "email",
        "display_name",
        "is_author",
        "is_staff",
        "is_active",
        "date_joined",
        "last_login",
    )
    list_filter = ("is_active", "is_staff", "is_author", "is_superuser")
    search_fields = ("username", "email")
    ordering = ("username",)
    readonly_fields = ("avatar_preview", "is_author", "last_login", "date_joined")
    actions = ["ban_selected_users"]
    status_description = (
        "Unticking “active” bans the user: their API tokens are deleted and their sessions "
        "stop working at once."
    )
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (
            "Profile",
            {"fields": ("email", "display_name", "bio", "avatar_preview", "remove_avatar")},
        ),
        (
            "Status",
            {
                "fields": ("is_active", "is_author", "is_staff", "is_superuser"),
                "description": status_description,
            },
        ),
        ("Permissions", {"fields": ("groups", "user_permissions"), "classes": ("collapse",)}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    moderator_fieldsets = (
        (None, {"fields": ("username",)}),
        (
            "Profile",
            {"fields": ("email", "display_name", "bio", "avatar_preview", "remove_avatar")},
        ),
        (
            "Status",
            {"fields": ("is_active", "is_author", "is_staff"), "description": status_description},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "email", "usable_password", "password1", "password2"),
            },
        ),
    )

    # --- who may do what -------------------------------------------------------------------

    def has_change_permission(self, request, obj=None) -> bool:
        if request.user.is_superuser:
            return True
        if not is_moderator(request):
            return False
        return obj is None or not (obj.is_staff or obj.is_superuser)

    def get_fieldsets(self, request, obj=None):
        if obj is not None and not request.user.is_superuser:
            return self.moderator_fieldsets
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and not request.user.is_superuser:
            fields += ("username", "email", "is_staff")
        return fields

    def user_change_password(self, request, id, form_url=""):
        # Django lets anyone who may change a user set their password; only superusers here.
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    # --- writes go through the services ----------------------------------------------------

    def save_model(self, request, obj: User, form, change: bool) -> None:
        deactivating = change and "is_active" in form.changed_data and not obj.is_active
        if deactivating:
            obj.is_active = True  # user_ban below deactivates, with its checks
        super().save_model(request, obj, form, change)
        if deactivating:
            try:
                user_ban(user=obj, by=request.user)
            except DomainError as error:
                self.message_user(request, f"Not banned: {error.message}", messages.ERROR)
        if change and form.cleaned_data.get("remove_avatar"):
            user_update_profile(user=obj, remove_avatar=True)

    @admin.display(description="Current avatar")
    def avatar_preview(self, obj: User) -> str:
        if not obj.avatar_url:
            return "—"
        return format_html(
            '<img src="{}" alt="Avatar of {}" width="96" height="96">',
            obj.avatar_url,
            obj.username,
        )

    @admin.action(description="Ban selected users", permissions=["change"])
    def ban_selected_users(self, request, queryset) -> None:
        banned, refused = 0, []
        for user in queryset:
            try:
                user_ban(user=user, by=request.user)
            except DomainError as error:
                refused.append(f"{user.username}: {error.message}")
            else:
                banned += 1
        if banned:
            self.message_user(
                request,
                ngettext("Banned %d user.", "Banned %d users.", banned) % banned,
                messages.SUCCESS,
            )
        for reason in refused:
            self.message_user(request, f"Not banned: {reason}", messages.WARNING)


# Moderation is "staff moderates" (videohost/moderation.py), not group permissions, and API
# tokens are ended through ban, logout and password change, never edited by hand.
admin.site.unregister(Group)
admin.site.unregister(AuthToken)
