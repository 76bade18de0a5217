"""What follows from an order: its lines in the books and, once shipped, out of stock."""
from collections import defaultdict

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.finance.models import FinancialRecord
from apps.inventory.models import BundleComponent
from apps.inventory.services import OutboundRequest, stock_outbound_bulk
from apps.sales.models import Order, OrderLine
from apps.sales.services import COUNTED_ORDER_STATUSES

RecordType = FinancialRecord.RecordType
Direction = FinancialRecord.Direction

# Statuses in which the goods have left the merchant's warehouse.
SHIPPED_STATUSES = (Order.Status.SHIPPED, Order.Status.DELIVERED)


def _records_for(order: Order) -> list[FinancialRecord]:
    if order.status not in COUNTED_ORDER_STATUSES:
        return []
    entries = [
        (RecordType.SALE, Direction.INCOME, order.total_amount, order.total_amount_base, "订单销售"),
        (RecordType.REFUND, Direction.OUTGO, order.refund_amount, order.refund_amount_base, "订单退款"),
        (RecordType.PLATFORM_FEE, Direction.OUTGO, order.platform_fee, order.platform_fee_base, "平台佣金"),
    ]
    return [
        FinancialRecord(
            record_type=record_type, direction=direction, shop_id=order.shop_id, order_id=order.pk,
            currency_id=order.currency_id, amount=amount, exchange_rate=order.exchange_rate, amount_base=amount_base,
            occurred_at=order.ordered_at, description=f"{label} {order.order_number or order.platform_order_id}"[:255],
            source_key=f"order:{order.pk}:{record_type}",
        )
        for record_type, direction, amount, amount_base, label in entries
        if amount > 0
    ]


@transaction.atomic
def order_finance_records_replace(*, orders: list[Order]) -> None:
    """Rewrites the sale, refund and fee records of these orders (idempotent by source key)."""
    FinancialRecord.objects.filter(order_id__in=[o.pk for o in orders], source_key__startswith="order:").delete()
    FinancialRecord.objects.bulk_create([record for order in orders for record in _records_for(order)], batch_size=1000)


@transaction.atomic
def order_lines_post_stock(*, order_ids: list[int] | None = None, line_ids: list[int] | None = None) -> int:
    """Writes the outbound of shipped merchant-fulfilled lines to the ledger, once per line.
    Lines whose stock is short stay pending and are posted by a later call. Returns lines posted."""
    lines = (
        OrderLine.objects.filter(stock_posted_at__isnull=True, product__isnull=False)
        .filter(order__fulfillment_channel=Order.FulfillmentChannel.MERCHANT)
        .filter(Q(order__status__in=SHIPPED_STATUSES) | Q(order__shipped_at__isnull=False))
        .exclude(order__status=Order.Status.CANCELLED)
        .select_related("order", "order__shop")
    )
    if order_ids is not None:
        lines = lines.filter(order_id__in=order_ids)
    if line_ids is not None:
        lines = lines.filter(pk__in=line_ids)
    lines = [line for line in lines if _warehouse_of(line) is not None]
    if not lines:
        return 0
    return _post(lines)


def _warehouse_of(line: OrderLine) -> int | None:
    return line.order.warehouse_id or line.order.shop.default_warehouse_id


def _post(lines: list[OrderLine]) -> int:
    bundles: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for bundle_id, component_id, quantity in BundleComponent.objects.filter(
        bundle_id__in={line.product_id for line in lines}
    ).values_list("bundle_id", "component_id", "quantity"):
        bundles[bundle_id].append((component_id, quantity))
    requests = []
    for line in lines:
        warehouse_id = _warehouse_of(line)
        parts = bundles.get(line.product_id) or [(line.product_id, 1)]
        requests.append(
            OutboundRequest(
                key=line.pk,
                parts=tuple((product_id, warehouse_id, per * line.quantity) for product_id, per in parts),
                reference=line.order.order_number or line.order.platform_order_id,
                occurred_at=line.order.shipped_at or line.order.ordered_at,
                idempotency_key=f"order-line:{line.pk}",
            )
        )
    posted = stock_outbound_bulk(requests=requests)
    if posted:
        OrderLine.objects.filter(pk__in=posted).update(stock_posted_at=timezone.now())
    return len(posted)
