"""Sales writes: base-currency amounts of an order and the daily sales rollups."""
import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Count, DecimalField, F, Sum, Value
from django.db.models.functions import Coalesce, TruncDate

from apps.core.exceptions import InvalidStateTransition
from apps.core.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS, ZERO, quantize_money
from apps.users.models import AuditLog

from .models import Order, OrderLine, SalesDaily, SalesTarget, SkuSalesDaily

# Orders that count as sales: paid at some point and not cancelled (refunds are reported apart).
COUNTED_ORDER_STATUSES = tuple(
    status for status in Order.Status.values if status not in (Order.Status.PENDING, Order.Status.CANCELLED)
)

BASE_AMOUNT_FIELDS = (
    ("items_amount", "items_amount_base"),
    ("shipping_amount", "shipping_amount_base"),
    ("tax_amount", "tax_amount_base"),
    ("discount_amount", "discount_amount_base"),
    ("platform_fee", "platform_fee_base"),
    ("refund_amount", "refund_amount_base"),
    ("total_amount", "total_amount_base"),
)

# Rollups are rebuilt a window at a time so memory stays bounded however long the range.
_REBUILD_WINDOW_DAYS = 31


def order_amounts_to_base(*, order: Order, rate: Decimal, lines: Iterable[OrderLine] = ()) -> None:
    """Sets the order's rate and every base-currency amount (and its lines' totals); saves nothing."""
    order.exchange_rate = rate
    for amount_field, base_field in BASE_AMOUNT_FIELDS:
        setattr(order, base_field, quantize_money(getattr(order, amount_field) * rate))
    for line in lines:
        line.line_total_base = quantize_money(line.line_total * rate)


def _money_output() -> DecimalField:
    return DecimalField(max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES)


def _line_cost():
    """Quantity × unit cost of a line; a line without a known cost costs 0."""
    return Sum(
        F("quantity") * Coalesce("unit_cost_base", Value(ZERO), output_field=_money_output()),
        output_field=_money_output(),
    )


def _business_bounds(start: dt.date, end: dt.date, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants of `start` 00:00 and `end + 1` 00:00 in the business time zone."""
    return (
        dt.datetime.combine(start, dt.time.min, tzinfo=tz),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
    )


def _rebuild_window(*, start: dt.date, end: dt.date, shop_ids: list[int] | None, batch_size: int) -> None:
    tz = ZoneInfo(settings.TIME_ZONE)
    since, until = _business_bounds(start, end, tz)
    orders = Order.objects.filter(status__in=COUNTED_ORDER_STATUSES, ordered_at__gte=since, ordered_at__lt=until)
    lines = OrderLine.objects.filter(
        order__status__in=COUNTED_ORDER_STATUSES, order__ordered_at__gte=since, order__ordered_at__lt=until
    )
    if shop_ids is not None:
        orders = orders.filter(shop_id__in=shop_ids)
        lines = lines.filter(order__shop_id__in=shop_ids)

    # Order-level sums and line-level sums are aggregated apart: a join would repeat each order's
    # amounts once per line. Both are grouped by the same key and merged per group, not per order.
    order_groups = (
        orders.annotate(day=TruncDate("ordered_at", tzinfo=tz))
        .values("day", "shop_id", "shop__platform_id", "buyer_country")
        .annotate(
            orders_count=Count("id"),
            gross=Sum("total_amount_base"),
            refunds=Sum("refund_amount_base"),
            fees=Sum("platform_fee_base"),
        )
        .order_by()
    )
    line_groups = (
        lines.annotate(day=TruncDate("order__ordered_at", tzinfo=tz))
        .values("day", "order__shop_id", "order__buyer_country")
        .annotate(units=Sum("quantity"), cogs=_line_cost())
        .order_by()
    )
    line_sums = {
        (row["day"], row["order__shop_id"], row["order__buyer_country"]): (row["units"], row["cogs"])
        for row in line_groups
    }
    daily = []
    for row in order_groups:
        units, cogs = line_sums.get((row["day"], row["shop_id"], row["buyer_country"]), (0, ZERO))
        daily.append(
            SalesDaily(
                date=row["day"],
                shop_id=row["shop_id"],
                platform_id=row["shop__platform_id"],
                buyer_country=row["buyer_country"],
                orders_count=row["orders_count"],
                units=units or 0,
                gross_sales_base=quantize_money(row["gross"] or ZERO),
                refunds_base=quantize_money(row["refunds"] or ZERO),
                platform_fees_base=quantize_money(row["fees"] or ZERO),
                cogs_base=quantize_money(cogs or ZERO),
            )
        )
    SalesDaily.objects.bulk_create(daily, batch_size=batch_size)

    sku_groups = (
        lines.filter(product__isnull=False)
        .annotate(day=TruncDate("order__ordered_at", tzinfo=tz))
        .values("day", "order__shop_id", "product_id")
        .annotate(
            orders_count=Count("order_id", distinct=True),
            units=Sum("quantity"),
            gross=Sum("line_total_base"),
            cogs=_line_cost(),
        )
        .order_by()
    )
    batch: list[SkuSalesDaily] = []
    for row in sku_groups.iterator(chunk_size=batch_size):
        batch.append(
            SkuSalesDaily(
                date=row["day"],
                shop_id=row["order__shop_id"],
                product_id=row["product_id"],
                orders_count=row["orders_count"],
                units=row["units"] or 0,
                gross_sales_base=quantize_money(row["gross"] or ZERO),
                cogs_base=quantize_money(row["cogs"] or ZERO),
            )
        )
        if len(batch) >= batch_size:
            SkuSalesDaily.objects.bulk_create(batch, batch_size=batch_size)
            batch = []
    SkuSalesDaily.objects.bulk_create(batch, batch_size=batch_size)


@transaction.atomic
def sales_rollups_rebuild(
    *, start: dt.date, end: dt.date, shop_ids: list[int] | None = None, batch_size: int = 2000
) -> None:
    """Recomputes SalesDaily and SkuSalesDaily for business days start..end (and the given shops)."""
    if end < start:
        return
    stale_daily = SalesDaily.objects.filter(date__gte=start, date__lte=end)
    stale_sku = SkuSalesDaily.objects.filter(date__gte=start, date__lte=end)
    if shop_ids is not None:
        stale_daily = stale_daily.filter(shop_id__in=shop_ids)
        stale_sku = stale_sku.filter(shop_id__in=shop_ids)
    stale_daily.delete()
    stale_sku.delete()

    window_start = start
    while window_start <= end:
        window_end = min(end, window_start + dt.timedelta(days=_REBUILD_WINDOW_DAYS - 1))
        _rebuild_window(start=window_start, end=window_end, shop_ids=shop_ids, batch_size=batch_size)
        window_start = window_end + dt.timedelta(days=1)


# Orders entered by hand and salespeople -----------------------------------------------------------

@transaction.atomic
def order_delete(*, order: Order, user=None) -> None:
    """Deletes an order whose stock has not moved; its books and rollups follow."""
    if order.lines.filter(stock_posted_at__isnull=False).exists():
        raise InvalidStateTransition("该订单已出库过账，不能删除；请改为取消或退款。")
    day = order.ordered_at.astimezone(ZoneInfo(settings.TIME_ZONE)).date()
    shop_id, pk, label = order.shop_id, order.pk, str(order)
    order.delete()
    sales_rollups_rebuild(start=day, end=day, shop_ids=[shop_id])
    AuditLog.objects.create(user=user, action="order.delete", object_type="sales.order", object_id=str(pk),
                            object_repr=label[:200])


@transaction.atomic
def salesperson_save(*, instance, targets: list[dict] | None = None, **fields):
    """Creates or edits a salesperson; `targets` (month, amount) replace the given months only."""
    for name, value in fields.items():
        setattr(instance, name, value)
    instance.save()
    for target in targets or []:
        SalesTarget.objects.update_or_create(
            salesperson=instance, month=target["month"],
            defaults={"target_amount_base": target["target_amount_base"]},
        )
    return instance
