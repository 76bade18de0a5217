"""Platform-side actions: pairing shop SKUs with master products."""
from django.db import transaction

from apps.inventory.models import Product
from apps.platforms.models import Listing
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
