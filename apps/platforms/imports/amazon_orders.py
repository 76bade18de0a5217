"""Amazon "All Orders" report (GET_FLAT_FILE_ALL_ORDERS_DATA_BY_…_GENERAL), tab-separated: one
row per order item; order-level columns repeat on every row; `item-price` is for the whole
quantity. Amounts of an order are the sums over its items."""
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from apps.core.money import ZERO
from apps.sales.ingest import OrderData
from apps.sales.models import Order

from . import values
from .orders import OrderDraft, OrdersImporter
from .readers import column

Status = Order.Status
Channel = Order.FulfillmentChannel

COLUMNS = (
    column("order_id", "amazon-order-id", required=True),
    column("merchant_order_id", "merchant-order-id"),
    column("purchase_date", "purchase-date", required=True),
    column("last_updated", "last-updated-date"),
    column("order_status", "order-status", required=True),
    column("fulfillment_channel", "fulfillment-channel"),
    column("sales_channel", "sales-channel"),
    column("product_name", "product-name"),
    column("sku", "sku", required=True),
    column("item_status", "item-status"),
    column("quantity", "quantity", "quantity-purchased", required=True),
    column("currency", "currency"),
    column("item_price", "item-price", required=True),
    column("item_tax", "item-tax"),
    column("shipping_price", "shipping-price"),
    column("shipping_tax", "shipping-tax"),
    column("gift_wrap_price", "gift-wrap-price"),
    column("gift_wrap_tax", "gift-wrap-tax"),
    column("item_promotion_discount", "item-promotion-discount"),
    column("ship_promotion_discount", "ship-promotion-discount"),
    column("ship_country", "ship-country"),
)

ORDER_STATUS = {
    "pending": Status.PENDING,
    "pendingavailability": Status.PENDING,
    "pending - waiting for pick up": Status.PENDING,
    "unshipped": Status.PAID,
    "partiallyshipped": Status.PAID,
    "partially shipped": Status.PAID,
    "shipping": Status.PAID,
    "invoiceunconfirmed": Status.SHIPPED,  # shipped, the seller has not yet uploaded the invoice
    "shipped": Status.SHIPPED,
    "shipped - delivered to buyer": Status.DELIVERED,
    "shipped - returned to seller": Status.SHIPPED,
    "shipped - returning to seller": Status.SHIPPED,
    "shipped - rejected by buyer": Status.SHIPPED,
    "shipped - out for delivery": Status.SHIPPED,
    "shipped - picked up": Status.SHIPPED,
    "delivered": Status.DELIVERED,
    "complete": Status.SHIPPED,
    "cancelled": Status.CANCELLED,
    "canceled": Status.CANCELLED,
    "unfulfillable": Status.CANCELLED,
}
# Multi-channel fulfilment: FBA shipping another channel's order; it is not a sale of this shop.
NOT_THIS_SHOP = "non-amazon"


PENDING, CANCELLED = Status.PENDING, Status.CANCELLED
MERCHANT, PLATFORM = Channel.MERCHANT, Channel.PLATFORM
_AFN = frozenset({"amazon", "afn"})
_CANCELLED_ITEM = frozenset({"cancelled", "canceled"})
# Money columns of a row, read by `more` (promotions may be negative).
_AMOUNTS = ("item_price", "shipping_price", "gift_wrap_price", "item_tax", "shipping_tax", "gift_wrap_tax")
_PROMOTIONS = ("item_promotion_discount", "ship_promotion_discount")


@dataclass
class AmazonDraft(OrderDraft):
    order_id: str = ""
    merchant_order_id: str = ""
    status: str = PENDING
    platform_status: str = ""
    channel: str = MERCHANT
    currency: str = ""
    purchased_at: dt.datetime | None = None
    updated_text: str = ""
    updated_at: dt.datetime | None = None
    country: str = ""
    items: Decimal = ZERO
    shipping: Decimal = ZERO
    tax: Decimal = ZERO
    discount: Decimal = ZERO


class AmazonOrdersImporter(OrdersImporter):
    columns = COLUMNS

    def order_key(self, row, cells):
        if cells.get("sales_channel", "").lower() == NOT_THIS_SHOP:
            return ""
        return self.require(row, cells, "order_id")

    def begin(self, row, cells, key):
        draft = AmazonDraft(first_row=row, order_id=key, merchant_order_id=cells.get("merchant_order_id", ""))
        errors_before = self.errors.total
        if self.require(row, cells, "purchase_date"):
            draft.purchased_at = self.parse(row, cells, "purchase_date", values.moment)
        raw_status = self.require(row, cells, "order_status")
        if raw_status:
            status = ORDER_STATUS.get(raw_status.lower())
            if status is None:
                self.errors.add(row, self.label("order_status"), f"未知的订单状态“{raw_status}”。")
            else:
                draft.status = status
        draft.platform_status = raw_status[:64]
        draft.channel = PLATFORM if cells.get("fulfillment_channel", "").lower() in _AFN else MERCHANT
        country = cells.get("ship_country")
        if country:
            draft.country = country.upper() if len(country) == 2 and country.isalpha() and country.isascii() else (
                self.parse(row, cells, "ship_country", values.country, default=""))
        draft.currency = self._currency(row, cells)
        if self.errors.total != errors_before:
            draft.bad = True
        self.more(draft, row, cells, first=True)
        return draft

    def _currency(self, row, cells) -> str:
        code = cells.get("currency")
        if not code:
            return self.shop.currency_id  # pending orders carry no price yet, and no currency
        if code in self.known_currencies:
            return code
        return self.parse(row, cells, "currency", values.currency, default="", known=self.known_currencies)

    def more(self, draft, row, cells, first=False):
        errors_before = self.errors.total
        updated_text = cells.get("last_updated")
        if updated_text and updated_text != draft.updated_text:
            updated = self.parse(row, cells, "last_updated", values.moment)
            draft.updated_text = updated_text
            if updated and (draft.updated_at is None or updated > draft.updated_at):
                draft.updated_at = updated
        if not first and cells.get("currency"):
            currency = self._currency(row, cells)
            if currency and currency != draft.currency:
                self.errors.add(row, self.label("currency"), f"同一订单的币种不一致：{draft.currency} 与 {currency}。")
        sku = self.require(row, cells, "sku")
        if len(sku) > 128:
            self.errors.add(row, self.label("sku"), f"SKU 长度不能超过 128 个字符（当前 {len(sku)} 个）。")
        quantity_text = self.require(row, cells, "quantity")
        quantity = int(quantity_text) if quantity_text.isdigit() else (
            self.parse(row, cells, "quantity", values.integer, default=0, minimum=0) if quantity_text else 0)
        get = cells.get
        try:  # every amount text seen before (the common case): no call per cell
            known, signed = self.amounts, self.signed_amounts
            price, shipping, gift_wrap, item_tax, shipping_tax, gift_wrap_tax = [known[get(k)] for k in _AMOUNTS]
            item_promotion, ship_promotion = [signed[get(k)] for k in _PROMOTIONS]
        except KeyError:
            price, shipping, gift_wrap, item_tax, shipping_tax, gift_wrap_tax = [
                self.amount(draft, row, cells, k) for k in _AMOUNTS]
            item_promotion, ship_promotion = [self.amount(draft, row, cells, k, signed=True) for k in _PROMOTIONS]
        tax = item_tax + shipping_tax + gift_wrap_tax
        # Some report versions write promotions as negative amounts, others as positive ones.
        discount = abs(item_promotion) + abs(ship_promotion)
        if self.errors.total != errors_before:
            draft.bad = True
            return
        if quantity == 0 or (draft.status != CANCELLED and cells.get("item_status", "").lower() in _CANCELLED_ITEM):
            return  # nothing was sold on this row (a cancelled item of a live order)
        draft.items += price + gift_wrap
        draft.shipping += shipping
        draft.tax += tax
        draft.discount += discount
        draft.add_line(sku=sku, title=cells.get("product_name", "")[:500], quantity=quantity, line_total=price)

    def finish(self, draft: AmazonDraft) -> OrderData:
        total = max(draft.items + draft.shipping + draft.tax - draft.discount, ZERO)
        return OrderData(
            platform_order_id=draft.order_id[:64],
            order_number=(draft.merchant_order_id or draft.order_id)[:64],
            ordered_at=draft.purchased_at,
            currency=draft.currency,
            status=draft.status,
            platform_status=draft.platform_status,
            fulfillment_channel=draft.channel,
            buyer_country=draft.country,
            items_amount=draft.items,
            shipping_amount=draft.shipping,
            tax_amount=draft.tax,
            discount_amount=min(draft.discount, draft.items + draft.shipping + draft.tax),
            total_amount=total,
            platform_updated_at=draft.updated_at,
            cancelled_at=draft.updated_at if draft.status == CANCELLED else None,
            lines=[line.to_line() for line in draft.lines.values()],
        )
