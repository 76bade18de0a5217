"""Shopify Admin REST (shared/contracts/shopify.md): orders by updated_at with status=any,
Link-header cursor pagination, 429 + Retry-After handled by PlatformClient."""
import datetime as dt
import re
from decimal import Decimal

from apps.sales.ingest import CustomerData, LineData, OrderData
from apps.sales.models import Order

from . import cleaning, register
from .base import DataCollector, ListingRecord, Page, StockRecord
from .errors import CleaningError
from .http import PlatformClient, json_body

API_VERSION = "2024-10"
PAGE_SIZE = 250
_ZERO = Decimal("0.00")
_CENT = Decimal("0.01")
_NEXT_LINK = re.compile(r'<([^>]+)>;\s*rel="next"')


def next_link(header: str | None) -> str | None:
    match = _NEXT_LINK.search(header or "")
    return match.group(1) if match else None


def order_status(record: dict) -> str:
    financial = record.get("financial_status") or "pending"
    if record.get("cancelled_at") or financial == "voided":
        return Order.Status.CANCELLED
    if financial == "refunded":
        return Order.Status.REFUNDED
    if financial == "partially_refunded":
        return Order.Status.PARTIALLY_REFUNDED
    if financial in ("pending", "authorized"):
        return Order.Status.PENDING
    if record.get("fulfillment_status") == "fulfilled":
        return Order.Status.SHIPPED
    return Order.Status.PAID


@register("shopify")
class ShopifyCollector(DataCollector):
    def _client(self) -> PlatformClient:
        return PlatformClient(
            base_url=self.shop.base_url, budget=self.shop.request_budget,
            headers={"X-Shopify-Access-Token": self.shop.credentials.get("access_token", "")},
        )

    def _path(self, resource: str) -> str:
        return f"/admin/api/{API_VERSION}/{resource}.json"

    async def collect_orders(self, since, until, checkpoint=None):
        async with self._client() as client:
            url = (checkpoint or {}).get("next_url")
            params = None if url else {
                "status": "any", "limit": PAGE_SIZE,
                "updated_at_min": since.astimezone(dt.UTC).isoformat(),
                "updated_at_max": until.astimezone(dt.UTC).isoformat(),
            }
            url = url or self._path("orders")
            while url:
                response = await client.request("GET", url, params=params)
                following = next_link(response.headers.get("Link"))
                yield Page(records=json_body(response).get("orders", []),
                           next_checkpoint={"next_url": following} if following else None)
                url, params = following, None

    def normalize_order(self, record: dict) -> OrderData:
        if not isinstance(record, dict) or not record.get("id"):
            raise CleaningError("订单缺少 id")
        currency = (record.get("currency") or "").upper()
        total = cleaning.money(record.get("total_price"), "total_price")
        refunded = sum(
            (cleaning.money(t.get("amount"), "refund amount")
             for refund in record.get("refunds") or [] for t in refund.get("transactions") or []
             if t.get("kind", "refund") == "refund"),
            _ZERO,
        )
        shipping_set = (record.get("total_shipping_price_set") or {}).get("shop_money") or {}
        fulfillments = record.get("fulfillments") or []
        customer = record.get("customer") or {}
        lines = []
        for item in record.get("line_items") or []:
            quantity = cleaning.quantity(item.get("quantity"), "quantity")
            price = cleaning.money(item.get("price"), "price")
            lines.append(LineData(
                platform_line_id=str(item.get("id") or ""),
                platform_sku=item.get("sku") or f"shopify-variant-{item.get('variant_id') or item.get('id')}",
                title=item.get("title") or "", quantity=quantity, unit_price=price, line_total=price * quantity,
            ))
        if not lines:
            raise CleaningError("订单没有商品行")
        return OrderData(
            platform_order_id=str(record["id"]), order_number=record.get("name") or "",
            ordered_at=cleaning.timestamp(record.get("created_at"), "created_at"), currency=currency,
            status=order_status(record),
            platform_status=f"{record.get('financial_status')}/{record.get('fulfillment_status') or 'unfulfilled'}",
            buyer_country=cleaning.country((record.get("shipping_address") or {}).get("country_code")),
            items_amount=cleaning.money(record.get("subtotal_price"), "subtotal_price", required=False),
            shipping_amount=cleaning.money(shipping_set.get("amount"), "shipping", required=False),
            tax_amount=cleaning.money(record.get("total_tax"), "total_tax", required=False),
            discount_amount=cleaning.money(record.get("total_discounts"), "total_discounts", required=False),
            platform_fee=(total * self.shop.fee_rate).quantize(_CENT),
            refund_amount=min(refunded, total), total_amount=total,
            shipped_at=cleaning.timestamp(fulfillments[0].get("created_at"), "fulfilled_at", required=False)
            if fulfillments else None,
            cancelled_at=cleaning.timestamp(record.get("cancelled_at"), "cancelled_at", required=False),
            platform_updated_at=cleaning.timestamp(record.get("updated_at"), "updated_at", required=False),
            customer=CustomerData(platform_buyer_id=str(customer.get("id") or ""),
                                  email=customer.get("email") or record.get("email") or "",
                                  name=" ".join(filter(None, [customer.get("first_name"), customer.get("last_name")]))),
            lines=lines,
        )

    async def _products(self, client) -> list[dict]:
        products, url, params = [], self._path("products"), {"limit": PAGE_SIZE}
        while url:
            response = await client.request("GET", url, params=params)
            products.extend(json_body(response).get("products", []))
            url, params = next_link(response.headers.get("Link")), None
        return products

    async def collect_products(self):
        async with self._client() as client:
            products = await self._products(client)
        return [
            ListingRecord(platform_sku=variant.get("sku") or f"shopify-variant-{variant.get('id')}",
                          title=product.get("title") or "", platform_item_id=str(variant.get("id")),
                          price=cleaning.money(variant.get("price"), "price", required=False), currency=self.shop.currency)
            for product in products for variant in product.get("variants") or []
        ]

    async def collect_inventory(self):
        async with self._client() as client:
            products = await self._products(client)
            sku_by_item = {
                variant["inventory_item_id"]: variant.get("sku")
                for product in products for variant in product.get("variants") or [] if variant.get("inventory_item_id")
            }
            records = []
            ids = list(sku_by_item)
            for start in range(0, len(ids), 50):
                chunk = ids[start:start + 50]
                response = await client.request("GET", self._path("inventory_levels"),
                                                params={"inventory_item_ids": ",".join(map(str, chunk))})
                for level in json_body(response).get("inventory_levels", []):
                    sku = sku_by_item.get(level.get("inventory_item_id"))
                    if sku and level.get("available") is not None:
                        records.append(StockRecord(platform_sku=sku, quantity=max(0, int(level["available"]))))
        return records

    async def test_connection(self) -> str:
        async with self._client() as client:
            response = await client.request("GET", self._path("shop"))
        return json_body(response).get("shop", {}).get("name", "Shopify")
