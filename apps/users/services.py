"""User account actions."""
from django.db import transaction
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from apps.users.models import AuditLog, User


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
