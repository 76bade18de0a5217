"""Shopify "Export orders" CSV: one row per line item; order-level columns are filled only on the
first row of each order, and rows are grouped by `Name` (#1001)."""
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from apps.core.money import ZERO
from apps.sales.ingest import CustomerData, OrderData
from apps.sales.models import Order

from . import values
from .orders import OrderDraft, OrdersImporter
from .readers import column

Status = Order.Status

COLUMNS = (
    column("name", "Name", required=True),
    column("order_id", "Id"),
    column("email", "Email"),
    column("financial_status", "Financial Status", required=True),
    column("paid_at", "Paid at"),
    column("fulfillment_status", "Fulfillment Status"),
    column("fulfilled_at", "Fulfilled at"),
    column("currency", "Currency"),
    column("subtotal", "Subtotal"),
    column("shipping", "Shipping"),
    column("taxes", "Taxes"),
    column("total", "Total", required=True),
    column("discount_amount", "Discount Amount"),
    column("created_at", "Created at", required=True),
    column("quantity", "Lineitem quantity", required=True),
    column("line_name", "Lineitem name"),
    column("line_price", "Lineitem price", required=True),
    column("line_sku", "Lineitem sku"),
    column("line_discount", "Lineitem discount"),
    column("billing_name", "Billing Name"),
    column("billing_country", "Billing Country"),
    column("shipping_name", "Shipping Name"),
    column("shipping_country", "Shipping Country"),
    column("cancelled_at", "Cancelled at"),
    column("refunded_amount", "Refunded Amount"),
)

# financial_status → our status before fulfilment and cancellation are looked at.
FINANCIAL_STATUS = {
    "pending": Status.PENDING,
    "authorized": Status.PAID,  # the payment is guaranteed, captured at fulfilment
    "partially_paid": Status.PAID,
    "paid": Status.PAID,
    "partially_refunded": Status.PARTIALLY_REFUNDED,
    "refunded": Status.REFUNDED,
    "voided": Status.CANCELLED,
    "expired": Status.CANCELLED,
}


def order_status(financial: str, fulfillment: str, cancelled: bool) -> str:
    """Shopify's two statuses (and cancellation) as one of ours. Only a fully fulfilled paid order
    is shipped: a partial fulfilment leaves stock effects to the lines still to ship."""
    if cancelled:
        return Status.CANCELLED
    status = FINANCIAL_STATUS[financial]
    if status == Status.PAID and fulfillment == "fulfilled":
        return Status.SHIPPED
    return status


@dataclass
class ShopifyDraft(OrderDraft):
    order_id: str = ""
    name: str = ""
    status: str = Status.PENDING
    platform_status: str = ""
    currency: str = ""
    created_at: dt.datetime | None = None
    paid_at: dt.datetime | None = None
    shipped_at: dt.datetime | None = None
    cancelled_at: dt.datetime | None = None
    subtotal: Decimal | None = None
    shipping: Decimal = ZERO
    taxes: Decimal = ZERO
    discount: Decimal = ZERO
    total: Decimal = ZERO
    refunded: Decimal = ZERO
    country: str = ""
    customer: CustomerData | None = None


class ShopifyOrdersImporter(OrdersImporter):
    columns = COLUMNS

    def order_key(self, row, cells):
        return self.require(row, cells, "name")

    def begin(self, row, cells, key):
        draft = ShopifyDraft(first_row=row, name=key)
        errors_before = self.errors.total
        draft.order_id = cells.get("order_id") or key
        draft.created_at = self.parse(row, cells, "created_at", values.moment) if self.require(
            row, cells, "created_at") else None
        draft.currency = (
            self.parse(row, cells, "currency", values.currency, known=self.known_currencies)
            if cells.get("currency") else self.shop.currency_id
        )
        financial = self.require(row, cells, "financial_status").lower()
        if financial and financial not in FINANCIAL_STATUS:
            self.errors.add(row, self.label("financial_status"), f"未知的付款状态“{financial}”。")
        fulfillment = cells.get("fulfillment_status", "").lower()
        cancelled_at = self.parse(row, cells, "cancelled_at", values.moment)
        draft.cancelled_at = cancelled_at
        draft.paid_at = self.parse(row, cells, "paid_at", values.moment)
        if financial in FINANCIAL_STATUS:
            draft.status = order_status(financial, fulfillment, bool(cells.get("cancelled_at")))
        draft.platform_status = " / ".join(
            part for part in (financial, fulfillment or "unfulfilled", "cancelled" if cells.get("cancelled_at") else "")
            if part
        )[:64]
        if fulfillment == "fulfilled" and not cells.get("cancelled_at"):
            # The goods have left, whatever was refunded since; stock follows from the ship time.
            draft.shipped_at = self.parse(row, cells, "fulfilled_at", values.moment) or draft.created_at
        if self.require(row, cells, "total"):
            draft.total = self.amount(draft, row, cells, "total")
        draft.subtotal = self.amount(draft, row, cells, "subtotal") if cells.get("subtotal") else None
        draft.shipping = self.amount(draft, row, cells, "shipping")
        draft.taxes = self.amount(draft, row, cells, "taxes")
        draft.discount = self.amount(draft, row, cells, "discount_amount")
        draft.refunded = self.amount(draft, row, cells, "refunded_amount")
        if draft.refunded > draft.total:
            self.errors.add(row, self.label("refunded_amount"),
                            f"退款金额 {draft.refunded} 大于订单总额 {draft.total}。")
        country_key = "shipping_country" if cells.get("shipping_country") else "billing_country"
        draft.country = self.parse(row, cells, country_key, values.country, default="")
        email = cells.get("email", "").strip().lower()
        if email:
            draft.customer = CustomerData(
                email=email[:254], name=(cells.get("billing_name") or cells.get("shipping_name", ""))[:200],
                country=draft.country,
            )
        if self.errors.total != errors_before:
            draft.bad = True
        self.more(draft, row, cells)
        return draft

    def more(self, draft, row, cells):
        errors_before = self.errors.total
        sku = cells.get("line_sku") or cells.get("line_name", "")
        if not sku:
            self.errors.add(row, self.label("line_sku"), "明细行既没有 SKU 也没有商品名称。")
        elif len(sku) > 128:
            self.errors.add(row, self.label("line_sku"), f"SKU 长度不能超过 128 个字符（当前 {len(sku)} 个）。")
        quantity = 0
        if self.require(row, cells, "quantity"):
            quantity = self.parse(row, cells, "quantity", values.integer, default=0, minimum=1)
        price = self.parse(row, cells, "line_price", values.money, default=ZERO) if self.require(
            row, cells, "line_price") else ZERO
        discount = self.parse(row, cells, "line_discount", values.money, default=ZERO)
        if self.errors.total != errors_before:
            draft.bad = True
            return
        line_total = max(price * quantity - discount, ZERO)
        draft.add_line(sku=sku, title=cells.get("line_name", "")[:500], quantity=quantity, line_total=line_total)

    def finish(self, draft: ShopifyDraft) -> OrderData:
        lines = [line.to_line() for line in draft.lines.values()]
        before_discount = sum((line.unit_price * line.quantity for line in lines), ZERO)
        # Shopify's Subtotal is after discounts; ours is before them, with the discount apart.
        items = draft.subtotal + draft.discount if draft.subtotal is not None else before_discount
        return OrderData(
            platform_order_id=draft.order_id[:64],
            order_number=draft.name[:64],
            ordered_at=draft.created_at,
            currency=draft.currency,
            status=draft.status,
            platform_status=draft.platform_status,
            fulfillment_channel=Order.FulfillmentChannel.MERCHANT,
            buyer_country=draft.country,
            items_amount=items,
            shipping_amount=draft.shipping,
            tax_amount=draft.taxes,
            discount_amount=draft.discount,
            refund_amount=draft.refunded,
            total_amount=draft.total,
            paid_at=draft.paid_at,
            shipped_at=draft.shipped_at,
            cancelled_at=draft.cancelled_at,
            customer=draft.customer,
            lines=lines,
        )
