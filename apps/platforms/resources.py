"""CSV/XLSX import and export of shop listings (平台商品), keyed by (shop code, platform SKU)."""
from apps.core.money import ZERO
from apps.core.resources import BoolWidget, ErpResource, IntWidget, MoneyWidget, NaturalKeyWidget, TextWidget, column
from apps.finance.models import Currency
from apps.inventory.models import Product

from .models import Listing, Shop

LISTING_COLUMNS = (
    "shop", "platform_sku", "platform_item_id", "title", "sku", "price", "currency", "platform_stock", "is_active",
)


class ListingResource(ErpResource):
    """A shop's SKU and the master SKU it sells (blank `sku` = not mapped yet)."""

    shop = column("shop", NaturalKeyWidget(Shop, "code", label="店铺", required=True))
    platform_sku = column("platform_sku", TextWidget(required=True, strip=True, max_length=128))
    platform_item_id = column("platform_item_id", TextWidget(strip=True, max_length=128))
    title = column("title", TextWidget(max_length=500))
    sku = column("product", NaturalKeyWidget(Product, "sku", label="SKU"), name="sku")
    price = column("price", MoneyWidget(), default=ZERO)
    currency = column("currency", NaturalKeyWidget(Currency, "code", label="币种", upper=True))
    platform_stock = column("platform_stock", IntWidget())
    is_active = column("is_active", BoolWidget(), default=True)

    class Meta:
        model = Listing
        fields = LISTING_COLUMNS
        export_order = LISTING_COLUMNS
        import_id_fields = ("shop", "platform_sku")

    def import_instance(self, instance, row, **kwargs):
        super().import_instance(instance, row, **kwargs)
        if instance.currency_id is None and instance.shop_id is not None:
            instance.currency_id = instance.shop.currency_id  # a listing sells in its shop's currency

    def get_queryset(self):
        return Listing.objects.select_related("shop", "product")

    def export_queryset(self, queryset):
        return queryset.select_related("shop", "product", "currency").order_by("shop__code", "platform_sku")
