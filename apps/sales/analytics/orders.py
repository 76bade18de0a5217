"""Order analysis (订单分析). Countries come from SalesDaily; status, fulfilment channel and time to
shipment are not in any rollup, so they aggregate the period's orders through the (shop|time)
indexes: one grouped query over one period's orders, never over all orders."""
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum

from apps.core.api.params import AnalysisQuery
from apps.core.money import ZERO
from apps.sales.models import Order
from apps.sales.services import COUNTED_ORDER_STATUSES

from .metrics import daily_rows, money, money_sum, percent

ORDER_ANALYSIS_DEFINITIONS = """\
- by_status：区间内下单的**全部**订单（含待付款与已取消）按状态计数，所有状态都列出（无则为 0）。
- by_country：计入订单按买家国家（读取 SalesDaily）：orders、gross_sales、net_sales。
- by_fulfillment_channel：计入订单按发货方式（merchant 自发货 / platform 平台仓）：orders、gross_sales。
- avg_hours_to_shipment：计入订单中已有发货时间（shipped_at）者，Σ(shipped_at − ordered_at) / 件数，单位小时，
  两位小数字符串；没有已发货订单时为 null。shipped_orders 为参与计算的订单数。
- cancellation_rate 取消率 = 区间内已取消订单数 / 区间内全部下单订单数 × 100。
- refund_rate 退款订单率 = 计入订单中退款金额 > 0 的订单数 / 计入订单数 × 100。
- refund_amount_rate 退款金额率 = refunds / gross_sales × 100。
本接口会读取区间内的订单（按索引范围扫描），其余分析只读汇总表。"""


def _orders_in(query: AnalysisQuery):
    since, until = query.period.bounds()
    return Order.objects.filter(
        query.scope.q(platform="shop__platform_id"), ordered_at__gte=since, ordered_at__lt=until
    ).order_by()


def _hours(duration: dt.timedelta | None, count: int) -> str | None:
    if not count or duration is None:
        return None
    seconds = Decimal(duration.days * 86400 + duration.seconds) + Decimal(duration.microseconds) / Decimal(10**6)
    return money(seconds / Decimal(3600) / count)


def order_analysis(*, query: AnalysisQuery) -> dict:
    """Counts by status, country and fulfilment channel; time to shipment; cancellation and refund rates."""
    shipped = Q(shipped_at__isnull=False)
    # One pass over the period's orders, grouped by (status, channel); everything else is summed here.
    groups = list(
        _orders_in(query).values("status", "fulfillment_channel").annotate(
            orders=Count("id"),
            gross=money_sum("total_amount_base"),
            refunds=money_sum("refund_amount_base"),
            refunded=Count("id", filter=Q(refund_amount_base__gt=0)),
            shipped=Count("id", filter=shipped),
            to_shipment=Sum(
                ExpressionWrapper(F("shipped_at") - F("ordered_at"), output_field=DurationField()), filter=shipped
            ),
        )
    )
    status_counts: dict[str, int] = defaultdict(int)
    for row in groups:
        status_counts[row["status"]] += row["orders"]
    sold = [row for row in groups if row["status"] in COUNTED_ORDER_STATUSES]
    channels: dict[str, list] = defaultdict(lambda: [0, ZERO])
    for row in sold:
        channels[row["fulfillment_channel"]][0] += row["orders"]
        channels[row["fulfillment_channel"]][1] += row["gross"]
    countries = (
        daily_rows(query.period, query.scope)
        .values("buyer_country")
        .annotate(orders=Sum("orders_count"), gross=Sum("gross_sales_base"), refunds=Sum("refunds_base"))
        .order_by("-gross", "buyer_country")
    )

    all_orders = sum(status_counts.values())
    counted_orders = sum(row["orders"] for row in sold)
    gross = sum((row["gross"] for row in sold), ZERO)
    refunds = sum((row["refunds"] for row in sold), ZERO)
    shipped_orders = sum(row["shipped"] for row in sold)
    durations = [row["to_shipment"] for row in sold if row["to_shipment"] is not None]
    return {
        "start": query.period.start,
        "end": query.period.end,
        "orders": all_orders,
        "counted_orders": counted_orders,
        "by_status": [
            {"status": value, "label": label, "orders": status_counts.get(value, 0)}
            for value, label in Order.Status.choices
        ],
        "by_country": [
            {
                "country": row["buyer_country"],
                "orders": row["orders"],
                "gross_sales": money(row["gross"]),
                "net_sales": money(row["gross"] - row["refunds"]),
            }
            for row in countries
        ],
        "by_fulfillment_channel": [
            {"channel": value, "label": label, "orders": channels[value][0], "gross_sales": money(channels[value][1])}
            for value, label in Order.FulfillmentChannel.choices
        ],
        "shipped_orders": shipped_orders,
        "avg_hours_to_shipment": _hours(sum(durations, dt.timedelta()) if durations else None, shipped_orders),
        "cancellation_rate": percent(status_counts.get(Order.Status.CANCELLED, 0), all_orders),
        "refund_rate": percent(sum(row["refunded"] for row in sold), counted_orders),
        "refund_amount_rate": percent(refunds, gross),
    }
