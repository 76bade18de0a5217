"""Shop scoping: a user sees only the shops assigned to them unless a role spans all shops."""
from django.db.models import QuerySet

from apps.users.models import User


def user_shop_ids(user: User) -> list[int] | None:
    """The ids of the shops a user may see, or None when they may see all."""
    cached = getattr(user, "_shop_scope_cache", False)
    if cached is not False:
        return cached
    scope = None if user.sees_all_shops else list(user.shops.values_list("pk", flat=True))
    user._shop_scope_cache = scope
    return scope


def scope_to_user_shops(queryset: QuerySet, user: User, shop_field: str) -> QuerySet:
    shop_ids = user_shop_ids(user)
    if shop_ids is None:
        return queryset
    return queryset.filter(**{f"{shop_field}__in": shop_ids})


class ShopScopedMixin:
    """For viewsets whose rows belong to a shop: `shop_field` is the lookup path to the shop id."""

    shop_field = "shop_id"

    def get_queryset(self):
        return scope_to_user_shops(super().get_queryset(), self.request.user, self.shop_field)
