"""What follows from an order: its lines in the books and, once shipped, out of stock."""
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.finance.models import FinancialRecord
from apps.inventory.models import BundleComponent
from apps.inventory.services import OutboundRequest, stock_outbound_bulk
from apps.sales.models import Order, OrderLine
from apps.sales.services import COUNTED_ORDER_STATUSES, sales_rollups_rebuild

from .fastwrite import ValuesIn, row_writer
from .statistics import tables_analyze

RecordType = FinancialRecord.RecordType
Direction = FinancialRecord.Direction

# Ids per query where they travel as separate parameters (SQLite).
_IDS_PER_QUERY = 2000
# Days apart that are still rebuilt as one range: a range costs a few statements whatever its length.
_ROLLUP_GAP_DAYS = 31

# Statuses in which the goods have left the merchant's warehouse.
SHIPPED_STATUSES = (Order.Status.SHIPPED, Order.Status.DELIVERED)


# Columns of the finance records an order writes, in the order `_record_rows` gives them.
RECORD_FIELDS = (
    "record_type", "direction", "shop_id", "order_id", "currency_id", "amount", "exchange_rate", "amount_base",
    "occurred_at", "description", "source_key",
)


def _record_rows(order) -> list[tuple]:
    """The sale, refund and fee records of `order` (an Order, or any object with its attributes)."""
    if order.status not in COUNTED_ORDER_STATUSES:
        return []
    entries = (
        (RecordType.SALE, Direction.INCOME, order.total_amount, order.total_amount_base, "订单销售"),
        (RecordType.REFUND, Direction.OUTGO, order.refund_amount, order.refund_amount_base, "订单退款"),
        (RecordType.PLATFORM_FEE, Direction.OUTGO, order.platform_fee, order.platform_fee_base, "平台佣金"),
    )
    number = order.order_number or order.platform_order_id
    return [
        (record_type.value, direction.value, order.shop_id, order.pk, order.currency_id, amount, order.exchange_rate,
         amount_base, order.ordered_at, f"{label} {number}"[:255], f"order:{order.pk}:{record_type.value}")
        for record_type, direction, amount, amount_base, label in entries
        if amount > 0
    ]


def finance_records_write(*, orders, fresh_ids=frozenset(), writer=None) -> None:
    """Rewrites the order records of `orders` in the caller's transaction; orders in `fresh_ids`
    were created in it and have none to delete."""
    stale = [order.pk for order in orders if order.pk not in fresh_ids]
    if stale:
        FinancialRecord.objects.filter(order_id__in=stale, source_key__startswith="order:").delete()
    rows = [row for order in orders for row in _record_rows(order)]
    (writer or row_writer()).insert(FinancialRecord, RECORD_FIELDS, rows)


@transaction.atomic
def order_finance_records_replace(*, orders: list[Order]) -> None:
    """Rewrites the sale, refund and fee records of these orders (idempotent by source key)."""
    finance_records_write(orders=orders)


@transaction.atomic
def order_lines_post_stock(*, order_ids: list[int] | None = None, line_ids: list[int] | None = None) -> int:
    """Writes the outbound of shipped merchant-fulfilled lines to the ledger, once per line.
    Lines whose stock is short stay pending and are posted by a later call. Returns lines posted."""
    return lines_post_stock(order_ids=order_ids, line_ids=line_ids)


def may_leave_stock(order) -> bool:
    """Whether `order` (an Order or any object with its attributes) is one whose lines
    `order_lines_post_stock` would consider: shipped, merchant-fulfilled, not cancelled."""
    return (
        order.fulfillment_channel == Order.FulfillmentChannel.MERCHANT
        and order.status != Order.Status.CANCELLED
        and (order.status in SHIPPED_STATUSES or order.shipped_at is not None)
    )


def lines_post_stock(*, order_ids: list[int] | None = None, line_ids: list[int] | None = None) -> int:
    """`order_lines_post_stock` in the caller's transaction."""
    lines = (
        OrderLine.objects.filter(stock_posted_at__isnull=True, product__isnull=False)
        .filter(order__fulfillment_channel=Order.FulfillmentChannel.MERCHANT)
        .filter(Q(order__status__in=SHIPPED_STATUSES) | Q(order__shipped_at__isnull=False))
        .exclude(order__status=Order.Status.CANCELLED)
        .order_by()
    )
    if order_ids is not None:
        lines = lines.filter(ValuesIn(F("order_id"), order_ids))
    if line_ids is not None:
        lines = lines.filter(ValuesIn(F("pk"), line_ids))
    # Plain values, not three model instances per line: a shipped page or import chunk has thousands.
    rows = [
        _PendingLine(*row)
        for row in lines.values_list(
            "pk", "product_id", "quantity", Coalesce("order__warehouse_id", "order__shop__default_warehouse_id"),
            Coalesce("order__shipped_at", "order__ordered_at"), "order__order_number", "order__platform_order_id",
        )
    ]
    rows = [row for row in rows if row.warehouse_id is not None]
    if not rows:
        return 0
    return _post(rows)


class _PendingLine(NamedTuple):
    pk: int
    product_id: int
    quantity: int
    warehouse_id: int | None
    occurred_at: object
    order_number: str
    platform_order_id: str


def _post(lines: list[_PendingLine]) -> int:
    bundles: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for bundle_id, component_id, quantity in BundleComponent.objects.filter(
        bundle_id__in={line.product_id for line in lines}
    ).values_list("bundle_id", "component_id", "quantity"):
        bundles[bundle_id].append((component_id, quantity))
    requests = []
    for line in lines:
        parts = bundles.get(line.product_id) or [(line.product_id, 1)]
        requests.append(
            OutboundRequest(
                key=line.pk,
                parts=tuple((product_id, line.warehouse_id, per * line.quantity) for product_id, per in parts),
                reference=line.order_number or line.platform_order_id,
                occurred_at=line.occurred_at,
                idempotency_key=f"order-line:{line.pk}",
            )
        )
    posted = stock_outbound_bulk(requests=requests)
    if posted:
        OrderLine.objects.filter(ValuesIn(F("pk"), list(posted))).update(stock_posted_at=timezone.now())
    return len(posted)


# Orders written in one transaction past which the planner's statistics are refreshed before the
# deferred effects run.
_ANALYZE_AFTER_ORDERS = 5000


def deferred_effects_apply(*, shop_id: int, rollup_days: Iterable[dt.date], leaving_order_ids: list[int],
                           orders_written: int = 0) -> None:
    """What `orders_upsert(defer_effects=True)` batches left to do, done once for all of them: stock
    posted for the orders that may leave it (oldest first across every batch), rollups rebuilt.

    After many orders (`orders_written`) the tables' statistics are refreshed first: rows this
    transaction wrote are invisible to autovacuum, and with statistics that know nothing of them
    the rollup queries were planned as scans of every line of the table (3.8 s a month, measured)."""
    if orders_written >= _ANALYZE_AFTER_ORDERS and connection.vendor == "postgresql":
        tables_analyze([Order, OrderLine])
    # PostgreSQL takes the ids as one array parameter; elsewhere they are query parameters, so a page at a time.
    step = len(leaving_order_ids) if connection.vendor == "postgresql" else _IDS_PER_QUERY
    for start in range(0, len(leaving_order_ids), step or 1):
        lines_post_stock(order_ids=leaving_order_ids[start:start + step])
    rollup_days_rebuild(shop_id=shop_id, days=rollup_days)


def rollup_days_rebuild(*, shop_id: int, days: Iterable[dt.date]) -> None:
    """Rebuilds one shop's rollups for the given business days, nearby days as one range."""
    ordered = sorted(set(days))
    if not ordered:
        return
    start = end = ordered[0]
    for day in ordered[1:]:
        if (day - end).days > _ROLLUP_GAP_DAYS:
            sales_rollups_rebuild(start=start, end=end, shop_ids=[shop_id])
            start = day
        end = day
    sales_rollups_rebuild(start=start, end=end, shop_ids=[shop_id])
