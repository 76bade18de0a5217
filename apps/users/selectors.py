"""Reads about users: their roles, permissions and shop scope."""
from apps.users.models import Role, User


def user_role_codes(user: User) -> list[dict]:
    """The predefined or custom roles the user holds, as {code, name}."""
    roles = Role.objects.filter(group__user=user).select_related("group").order_by("code")
    return [{"code": role.code, "name": role.group.name} for role in roles]


def user_permission_codes(user: User) -> list[str]:
    """Sorted `app_label.codename` permissions, which the SPA uses to build its menu."""
    return sorted(user.get_all_permissions())
