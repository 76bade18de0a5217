"""User account actions."""
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from apps.core.exceptions import DomainError, InvalidStateTransition
from apps.users.models import AuditLog, Role, User


@transaction.atomic
def user_register(*, username: str, email: str, password: str, display_name: str = "") -> User:
    """Creates a user with no role and no shops: an administrator grants those."""
    user = User.objects.create_user(username=username, email=email, password=password, display_name=display_name)
    AuditLog.objects.create(user=user, action="user.register", object_type="users.user", object_id=str(user.pk),
                            object_repr=user.username)
    return user


@transaction.atomic
def user_change_password(*, user: User, new_password: str) -> None:
    """Sets a new password and ends every session held by a refresh token."""
    user.set_password(new_password)
    user.save(update_fields=["password"])
    outstanding = OutstandingToken.objects.filter(user=user).exclude(blacklistedtoken__isnull=False)
    BlacklistedToken.objects.bulk_create([BlacklistedToken(token=t) for t in outstanding], ignore_conflicts=True)
    AuditLog.objects.create(user=user, action="user.change_password", object_type="users.user",
                            object_id=str(user.pk), object_repr=user.username)


@transaction.atomic
def user_save(*, instance: User, actor=None, password: str | None = None, groups=None, shops=None, **fields) -> User:
    """Creates or edits a user as an administrator; roles and shops are replaced when given."""
    for name, value in fields.items():
        setattr(instance, name, value)
    if password:
        instance.set_password(password)
    instance.save()
    if groups is not None:
        instance.groups.set(groups)
    if shops is not None:
        instance.shops.set(shops)
    AuditLog.objects.create(
        user=actor, action="user.save", object_type="users.user", object_id=str(instance.pk),
        object_repr=instance.username,
        changes={"roles": [g.name for g in groups or []], "shops": [s.pk for s in shops or []]},
    )
    return instance


def _permissions_from_codes(codes: list[str]) -> list[Permission]:
    pairs = [tuple(code.split(".", 1)) for code in codes]
    query = Q(pk__in=[])
    for app_label, codename in pairs:
        query |= Q(content_type__app_label=app_label, codename=codename)
    found = list(Permission.objects.filter(query).select_related("content_type"))
    known = {f"{p.content_type.app_label}.{p.codename}" for p in found}
    missing = sorted(set(codes) - known)
    if missing:
        raise DomainError(f"未知权限：{', '.join(missing)}", field="permissions")
    return found


@transaction.atomic
def role_save(*, instance: Role | None, name: str, code: str, description: str = "", spans_all_shops: bool = False,
              permissions: list[str] | None = None, actor=None) -> Role:
    """Creates or edits a role (a group plus its description and shop span)."""
    if instance is None:
        group = Group.objects.create(name=name)
        instance = Role(group=group)
    else:
        instance.group.name = name
        instance.group.save(update_fields=["name"])
    instance.code, instance.description, instance.spans_all_shops = code, description, spans_all_shops
    instance.save()
    if permissions is not None:
        instance.group.permissions.set(_permissions_from_codes(permissions))
    AuditLog.objects.create(user=actor, action="role.save", object_type="users.role", object_id=str(instance.pk),
                            object_repr=name, changes={"permissions": permissions})
    return instance


@transaction.atomic
def role_delete(*, role: Role, actor=None) -> None:
    """Deletes a custom role; the predefined ones stay."""
    if role.is_system:
        raise InvalidStateTransition("系统内置角色不能删除。")
    name = role.group.name
    role.group.delete()
    AuditLog.objects.create(user=actor, action="role.delete", object_type="users.role", object_repr=name)


@transaction.atomic
def user_delete(*, user: User, actor) -> None:
    """Deletes a user other than oneself."""
    if user.pk == actor.pk:
        raise DomainError("不能删除当前登录的用户。")
    username = user.username
    user.delete()
    AuditLog.objects.create(user=actor, action="user.delete", object_type="users.user", object_repr=username)
