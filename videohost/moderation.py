"""Who moderates in the admin: every active staff member.

VideoHost's moderators are staff accounts; they need no per-model permission grants to look
at users, channels, subscriptions, videos and ads, or to use the moderation tools each admin
offers (ban, hide, take down, manage ads). What each admin lets them change is decided there;
superusers keep everything Django gives them (permissions, passwords, staff accounts).
"""


def is_moderator(request) -> bool:
    user = request.user
    return bool(user.is_active and user.is_staff)


class StaffModeratesMixin:
    def has_module_permission(self, request) -> bool:
        return is_moderator(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return is_moderator(request)
