"""Listings template: a shop's SKUs upserted by (shop code, platform SKU), paired with a master
SKU when `sku` is given (blank: the listing waits, unmapped, in the pairing queue). A listing
newly paired goes through `listing_map`, so order lines already collected under it follow."""
from django.utils import timezone

from apps.core.api.scoping import user_shop_ids
from apps.finance.models import Currency
from apps.inventory.models import Product
from apps.platforms.models import Listing, Shop
from apps.platforms.services import listing_map

from . import values
from .templates import Record, TemplateImporter, model_column

COLUMNS = (
    model_column(Listing, "platform_sku", "seller-sku", "seller sku", "平台 SKU", required=True),
    model_column(Listing, "shop", "shop_code", "店铺编码"),
    model_column(Listing, "product", "sku", "product_sku", "商品SKU", "master sku", key="product_sku"),
    model_column(Listing, "price"),
    model_column(Listing, "currency"),
    model_column(Listing, "title", "item-name", "product name"),
    model_column(Listing, "platform_item_id", "asin", "item_id", "listing-id"),
    model_column(Listing, "platform_stock", "quantity"),
    model_column(Listing, "is_active"),
)


class ListingsImporter(TemplateImporter):
    columns = COLUMNS

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.known_currencies = set(Currency.objects.values_list("code", flat=True))
        shops = Shop.objects.all()
        scope = user_shop_ids(self.user) if self.user is not None else None
        if scope is not None:
            shops = shops.filter(pk__in=scope)
        self.shops = {code: (pk, currency) for code, pk, currency in shops.values_list("code", "pk", "currency_id")}

    def key_label(self):
        return self.label("platform_sku")

    def key_of(self, row, cells):
        sku = self.require(row, cells, "platform_sku")
        if len(sku) > 128:
            self.errors.add(row, self.label("platform_sku"), f"平台 SKU 长度不能超过 128 个字符（当前 {len(sku)} 个）。")
            return None
        code = cells.get("shop", "")
        if not code:
            if self.shop is None:
                self.errors.add(row, self.label("shop"), "请填写店铺编码，或在导入时选择店铺。")
                return None
            return (self.shop.pk, sku) if sku else None
        shop = self.shops.get(code)
        if shop is None:
            # Another user's shop reads as one that does not exist.
            self.errors.add(row, self.label("shop"), f"店铺“{code}”不存在。")
            return None
        return (shop[0], sku) if sku else None

    def read(self, record: Record, cells):
        row, provided = record.row, record.values
        if cells.get("price"):
            provided["price"] = self.parse(row, cells, "price", values.money)
        if cells.get("currency"):
            provided["currency_id"] = self.parse(row, cells, "currency", values.currency, known=self.known_currencies)
        if cells.get("title"):
            provided["title"] = self.parse(row, cells, "title", values.text, max_length=500, label="标题")
        if cells.get("platform_item_id"):
            provided["platform_item_id"] = self.parse(row, cells, "platform_item_id", values.text, max_length=128,
                                                      label="平台商品ID")
        if cells.get("platform_stock"):
            provided["platform_stock"] = self.parse(row, cells, "platform_stock", values.integer, minimum=None,
                                                    label="平台库存")
        if cells.get("is_active"):
            provided["is_active"] = self.parse(row, cells, "is_active", values.boolean)
        if cells.get("product_sku"):
            record.refs["product"] = cells["product_sku"]

    def write(self, records, *, write):
        product_skus = {record.refs["product"] for record in records if "product" in record.refs}
        products = dict(Product.objects.filter(sku__in=product_skus).values_list("sku", "pk"))
        errors_before = self.errors.total
        for record in records:
            sku = record.refs.get("product")
            if sku is not None and sku not in products:
                self.errors.add(record.row, self.label("product_sku"), f"商品 SKU“{sku}”不存在。")
        if not write or self.errors.total != errors_before:
            return

        existing = {
            (listing.shop_id, listing.platform_sku): listing
            for listing in Listing.objects.filter(
                shop_id__in={record.key[0] for record in records},
                platform_sku__in={record.key[1] for record in records},
            )
        }
        currency_of = {pk: currency for pk, currency in self.shops.values()}
        if self.shop is not None:
            currency_of.setdefault(self.shop.pk, self.shop.currency_id)
        now = timezone.now()
        creates: list[Listing] = []
        updates: list[Listing] = []
        changed_fields: set[str] = set()
        to_map: list[tuple[Listing, int]] = []
        for record in records:
            shop_id, platform_sku = record.key
            provided = dict(record.values)
            product_id = products.get(record.refs.get("product"))
            listing = existing.get(record.key)
            if listing is None:
                provided.setdefault("currency_id", currency_of[shop_id])
                creates.append(Listing(shop_id=shop_id, platform_sku=platform_sku, product_id=product_id, **provided))
                continue
            changes = [name for name, value in provided.items() if getattr(listing, name) != value]
            remap = product_id is not None and product_id != listing.product_id
            if not changes and not remap:
                self.counts.unchanged += 1
                continue
            if changes:
                for name in changes:
                    setattr(listing, name, provided[name])
                listing.updated_at = now
                changed_fields.update(changes)
                updates.append(listing)
            if remap:
                to_map.append((listing, product_id))
        if creates:
            Listing.objects.bulk_create(creates, batch_size=self.chunk_size)
        if updates:
            Listing.objects.bulk_update(updates, sorted(changed_fields) + ["updated_at"], batch_size=self.chunk_size)
        if to_map:
            targets = Product.objects.in_bulk([product_id for _, product_id in to_map])
            for listing, product_id in to_map:
                listing_map(listing=listing, product=targets[product_id], user=self.user)
        self.counts.created += len(creates)
        self.counts.updated += len({listing.pk for listing in updates} | {listing.pk for listing, _ in to_map})
