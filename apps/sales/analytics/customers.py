"""Customer analysis (客户分析). No rollup holds buyers, so this aggregates the period's counted
orders in the database (per customer, per bucket, per country: index range scans of the period) and
probes, once per customer of the period, whether they bought before it (customer index)."""
import datetime as dt
import heapq
from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Exists, Max, Min, OuterRef, Q
from django.db.models.functions import TruncDate, TruncMonth, TruncWeek

from apps.core.api.params import AnalysisQuery, business_zone
from apps.core.money import ZERO
from apps.sales.models import Customer, Order
from apps.sales.services import COUNTED_ORDER_STATUSES

from .metrics import bucket_start, buckets, money, money_sum, percent

INTERVALS = ("day", "week", "month")

# (recency high, frequency high, monetary high) → segment, the classic eight-way RFM split.
RFM_SEGMENTS = {
    (True, True, True): ("important_value", "重要价值客户"),
    (True, False, True): ("important_development", "重要发展客户"),
    (False, True, True): ("important_retention", "重要保持客户"),
    (False, False, True): ("important_winback", "重要挽留客户"),
    (True, True, False): ("general_value", "一般价值客户"),
    (True, False, False): ("general_development", "一般发展客户"),
    (False, True, False): ("general_retention", "一般保持客户"),
    (False, False, False): ("general_winback", "一般挽留客户"),
}

CUSTOMER_DEFINITIONS = """\
只统计计入订单（非待付款、非已取消，下单日在区间内）中有客户的订单；没有客户的订单数见 orders_without_customer。
- customers：区间内有计入订单的客户数；net_sales 均为本位币 Σ(订单总额 − 退款)。
- new_customers：首单（该客户全部历史计入订单中最早的一单）落在区间内的客户；returning_customers = customers − new_customers。
- by_period（`interval` = day | week | month，周从周一开始）：每个时段内下过单的客户中，首单（区间之前从未下单）
  落在该时段的为 new，其余为 returning；各时段 new 之和 = new_customers。所有时段都列出。
- repeat_purchase_rate 复购率 = 区间内计入订单数 ≥ 2 的客户数 / customers × 100。
- RFM：R = 区间结束日 − 最近一次下单日（业务时区，天）；F = 区间内计入订单数；M = 区间内 net_sales。
  每个维度与区间内全部客户的平均值比较：R ≤ 平均为高，F ≥ 平均为高，M ≥ 平均为高；
  (R,F,M) 高/低组合成 8 类：重要价值(高高高)、重要发展(高低高)、重要保持(低高高)、重要挽留(低低高)、
  一般价值(高高低)、一般发展(高低低)、一般保持(低高低)、一般挽留(低低低)。8 类都列出。
- top_customers：按 net_sales 降序的前 `limit` 名（同额按客户 id），last_order_date 为区间内最后下单日（业务时区）。
- by_country：按订单的买家国家，客户数（去重）与 net_sales。
本接口会读取区间内的订单（按索引范围扫描）。"""


def customer_analysis(*, query: AnalysisQuery, interval: str, limit: int) -> dict:
    """New vs returning customers, repeat purchases, RFM segments, top customers and countries."""
    period, zone = query.period, business_zone()
    since, until = period.bounds()
    counted = Order.objects.filter(
        query.scope.q(platform="shop__platform_id"), status__in=COUNTED_ORDER_STATUSES,
        ordered_at__gte=since, ordered_at__lt=until,
    ).order_by()
    with_customer = counted.filter(customer__isnull=False)
    day = TruncDate("ordered_at", tzinfo=zone)

    # (customer id, orders, net sales, first day, last day, bought before the period) of every customer
    # of the period; "before" probes the customer's orders through an index, once per customer row.
    bought_before = Order.objects.filter(
        customer_id=OuterRef("customer_id"), status__in=COUNTED_ORDER_STATUSES, ordered_at__lt=since,
    )
    per_customer = list(
        with_customer.values("customer_id").annotate(
            orders=Count("id"),
            net=money_sum("total_amount_base") - money_sum("refund_amount_base"),
            first_day=Min(day), last_day=Max(day), returning=Exists(bought_before),
        ).values_list("customer_id", "orders", "net", "first_day", "last_day", "returning")
    )
    trunc = {
        "day": day,
        "week": TruncWeek("ordered_at", tzinfo=zone),
        "month": TruncMonth("ordered_at", tzinfo=zone),
    }[interval]
    active_in = {
        bucket_start(_as_date(bucket), interval): active
        for bucket, active in with_customer.annotate(bucket=trunc).values("bucket")
        .annotate(active=Count("customer_id", distinct=True)).values_list("bucket", "active")
    }

    new_in: dict[dt.date, int] = defaultdict(int)
    repeaters = 0
    for _, orders, _, first_day, _, returning in per_customer:
        if not returning:
            new_in[bucket_start(first_day, interval)] += 1
        repeaters += orders >= 2
    customers = len(per_customer)
    new_customers = sum(new_in.values())
    countries = list(
        counted.values("buyer_country")
        .annotate(
            customers=Count("customer_id", distinct=True),
            net=money_sum("total_amount_base", Q(customer__isnull=False))
            - money_sum("refund_amount_base", Q(customer__isnull=False)),
            guests=Count("id", filter=Q(customer__isnull=True)),
        )
        .order_by("-customers", "buyer_country")
    )
    return {
        "start": period.start,
        "end": period.end,
        "interval": interval,
        "customers": customers,
        "new_customers": new_customers,
        "returning_customers": customers - new_customers,
        "orders_without_customer": sum(row["guests"] for row in countries),
        "repeat_purchase_rate": percent(repeaters, customers),
        "by_period": [
            {"period": start, "new_customers": new_in.get(start, 0),
             "returning_customers": active_in.get(start, 0) - new_in.get(start, 0)}
            for start, _ in buckets(period, interval)
        ],
        "rfm": _rfm(per_customer, period.end),
        "top_customers": _top_customers(per_customer, limit),
        "by_country": [
            {"country": row["buyer_country"], "customers": row["customers"], "net_sales": money(row["net"])}
            for row in countries
            if row["customers"]
        ],
    }


def _as_date(value) -> dt.date:
    # Truncated timestamps come back as aware datetimes in the business zone; days as dates.
    return value.date() if isinstance(value, dt.datetime) else value


def _rfm(per_customer: list[tuple], end: dt.date) -> dict:
    count = len(per_customer)
    total_r = sum((end - last_day).days for _, _, _, _, last_day, _ in per_customer)
    total_f = sum(orders for _, orders, _, _, _, _ in per_customer)
    total_m = sum((net for _, _, net, _, _, _ in per_customer), ZERO)
    counts: dict[str, list] = {code: [0, ZERO] for code, _ in RFM_SEGMENTS.values()}
    for _, orders, net, _, last_day, _ in per_customer:
        # Compared with the mean without dividing: x ≥ Σx/n  ⇔  x·n ≥ Σx.
        key = ((end - last_day).days * count <= total_r, orders * count >= total_f, net * count >= total_m)
        segment = counts[RFM_SEGMENTS[key][0]]
        segment[0] += 1
        segment[1] += net
    return {
        "avg_recency_days": money(Decimal(total_r) / count) if count else None,
        "avg_frequency": money(Decimal(total_f) / count) if count else None,
        "avg_monetary": money(total_m / count) if count else None,
        "segments": [
            {"segment": code, "label": label, "customers": counts[code][0], "net_sales": money(counts[code][1])}
            for code, label in RFM_SEGMENTS.values()
        ],
    }


def _top_customers(per_customer: list[tuple], limit: int) -> list[dict]:
    top = heapq.nsmallest(limit, per_customer, key=lambda row: (-row[2], row[0]))
    if not top:
        return []
    details = {
        customer.pk: customer
        for customer in Customer.objects.filter(pk__in=[row[0] for row in top]).select_related("shop")
    }
    result = []
    for customer_id, orders, net, _, last_day, _ in top:
        customer = details[customer_id]
        result.append({
            "id": customer.pk,
            "name": customer.name,
            "email": customer.email,
            "country": customer.country,
            "shop": {"id": customer.shop_id, "name": customer.shop.name},
            "orders": orders,
            "net_sales": money(net),
            "last_order_date": last_day,
        })
    return result
