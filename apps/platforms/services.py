"""Platform-side actions: pairing shop SKUs with master products."""
from django.db import transaction

from apps.inventory.models import Product
from apps.platforms.models import Listing, Shop
from apps.platforms.schedules import shop_schedules_ensure
from apps.sales.models import OrderLine
from apps.users.models import AuditLog


@transaction.atomic
def listing_map(*, listing: Listing, product: Product, user=None) -> Listing:
    """Pairs a shop SKU with a master product; order lines already collected under it follow."""
    listing = Listing.objects.select_for_update().get(pk=listing.pk)
    previous = listing.product_id
    listing.product = product
    listing.save(update_fields=["product", "updated_at"])
    OrderLine.objects.filter(listing=listing, product__isnull=True).update(product=product)
    AuditLog.objects.create(
        user=user, action="listing.map", object_type="platforms.listing", object_id=str(listing.pk),
        object_repr=str(listing)[:200], changes={"product": [previous, product.pk]},
    )
    return listing


@transaction.atomic
def shop_save(*, instance: Shop, user=None, **fields) -> Shop:
    """Creates or edits a shop; its collection schedules are created with it and follow `is_active`."""
    for name, value in fields.items():
        setattr(instance, name, value)
    if "credentials" in fields and fields["credentials"]:
        instance.auth_status = Shop.AuthStatus.OK
    instance.save()
    shop_schedules_ensure(shop=instance)
    AuditLog.objects.create(
        user=user, action="shop.save", object_type="platforms.shop", object_id=str(instance.pk),
        object_repr=str(instance)[:200],
        changes={k: ("***" if k == "credentials" else str(v)) for k, v in fields.items()},
    )
    return instance
