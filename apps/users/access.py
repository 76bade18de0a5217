"""What a user may do and see, read once per request: their permissions (their own and their
roles') and whether one of their roles spans all shops, in a single query. Kept on the user object
where Django's ModelBackend (`_perm_cache`) and User.sees_all_shops look first, so the permission
checks and the shop scope of the request ask the database nothing more. Nothing outlives the
request: the next one reads again, so a changed role applies at once."""
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from .models import Role, User, UserRole


def _access_sql() -> str:
    quote = connection.ops.quote_name
    permissions, types = quote(Permission._meta.db_table), quote(ContentType._meta.db_table)
    own = quote(User.user_permissions.through._meta.db_table)
    of_groups = quote(Group.permissions.through._meta.db_table)
    user_roles, roles = quote(UserRole._meta.db_table), quote(Role._meta.db_table)
    return (
        f"SELECT 'perm', t.app_label, p.codename FROM {permissions} p INNER JOIN {types} t ON t.id = p.content_type_id"
        f" WHERE p.id IN (SELECT permission_id FROM {own} WHERE user_id = %s)"
        f" OR p.id IN (SELECT gp.permission_id FROM {of_groups} gp INNER JOIN {user_roles} ur"
        f" ON ur.group_id = gp.group_id WHERE ur.user_id = %s)"
        f" UNION ALL SELECT 'all_shops', NULL, NULL FROM {roles} r INNER JOIN {user_roles} ur"
        f" ON ur.group_id = r.group_id WHERE ur.user_id = %s AND r.spans_all_shops"
    )


def user_access_load(user: User) -> None:
    """Reads the user's permissions and shop reach into the user object (see the module)."""
    if user.is_superuser or not user.is_active:
        return  # has_perm and sees_all_shops answer these without a query
    with connection.cursor() as cursor:
        cursor.execute(_access_sql(), [user.pk, user.pk, user.pk])
        rows = cursor.fetchall()
    user._perm_cache = {f"{app_label}.{codename}" for kind, app_label, codename in rows if kind == "perm"}
    user._sees_all_shops = any(kind == "all_shops" for kind, _, _ in rows)
