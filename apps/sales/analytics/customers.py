"""Customer analysis (客户分析). RFM and repeat purchases need each buyer's orders of the period,
so this is one statement over the orders and the day rollups; only a few dozen rows come back.

Most buyers have one counted order ever. Order.repeat_buyer marks the orders of the others: only
those are read and grouped by buyer. Every other buyer's figures are their one order's, and the day
rollups (SalesDaily) hold them summed: single_orders and single_net_base per day, shop and country
(kept where the flag changes). So the period's means come from the repeat buyers' groups and the
rollups, and of the single buyers' orders only those at or above the mean net sales are read (they
move to the high-M segments, and hold the top ones). Who is new needs no look-up of each buyer's
history: a single buyer's one order is their first, and the repeat buyers' Customer.first_ordered_at
(kept with the rollups) is read as an index range of the period.

RFM compares each buyer with the period's means without dividing per row: x ≥ Σx/n ⇔ x ≥ ⌈Σx/n⌉
for whole numbers (days, orders, cents), so each mean becomes one integer threshold."""
import datetime as dt
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import F

from apps.core.api.params import AnalysisQuery, business_zone
from apps.core.daynumber import EPOCH, BusinessDayNumber, DateDayNumber, bucket_number
from apps.core.money import ZERO, money_from_sql
from apps.sales.models import Customer, Order, SalesDaily
from apps.sales.services import COUNTED_ORDER_STATUSES

from .metrics import buckets, money, percent

ANALYSIS_WORK_MEM = "64MB"


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
    starts = [start for start, _ in buckets(period, interval)]

    def day_number(field: str) -> BusinessDayNumber:
        return BusinessDayNumber(F(field), zone=zone, since=since, until=until)

    counted = Order.objects.filter(
        query.scope.q(platform="shop__platform_id"), status__in=COUNTED_ORDER_STATUSES,
        ordered_at__gte=since, ordered_at__lt=until, customer__isnull=False,
    ).order_by().annotate(net=F("total_amount_base") - F("refund_amount_base"), day_num=day_number("ordered_at"))
    repeat_orders = (
        counted.filter(repeat_buyer=True)
        .annotate(bucket_num=bucket_number(F("day_num"), interval, starts))
        .values_list("customer_id", "buyer_country", "net", "day_num", "bucket_num")
    )
    single_orders = counted.filter(repeat_buyer=False).values_list("customer_id", "net", "day_num")
    single_days = (
        SalesDaily.objects.filter(query.scope.q(), date__gte=period.start, date__lte=period.end)
        .order_by()
        .annotate(day_num=DateDayNumber("date"))
        .annotate(bucket_num=bucket_number(F("day_num"), interval, starts))
        .values_list("day_num", "bucket_num", "buyer_country", "single_orders", "single_net_base", "guest_orders")
    )
    # New repeat buyers; a single buyer's first order is their one order, counted in the rollups.
    first_orders = (
        Customer.objects.filter(
            query.scope.q(platform="shop__platform_id"), first_ordered_at__gte=since, first_ordered_at__lt=until,
            repeat_buyer=True,
        )
        .order_by()
        .annotate(bucket_num=bucket_number(day_number("first_ordered_at"), interval, starts))
        .values_list("bucket_num")
    )
    figures = _customer_figures(repeat_orders, single_orders, single_days, first_orders, limit=limit)

    segments = figures["segments"]
    customers = sum(row[0] for row in segments.values())
    total_f = sum(row[2] for row in segments.values())
    total_m = sum((row[1] for row in segments.values()), ZERO)
    total_last = sum(row[3] for row in segments.values())
    repeaters = sum(row[4] for row in segments.values())
    new_in = {_day(number): new for number, new in figures["new"].items()}
    active_in = {_day(number): active for number, active in figures["active"].items()}
    countries = figures["countries"]
    end_num = (period.end - EPOCH).days
    return {
        "start": period.start,
        "end": period.end,
        "interval": interval,
        "customers": customers,
        "new_customers": sum(new_in.values()),
        "returning_customers": customers - sum(new_in.values()),
        "orders_without_customer": sum(row[2] for row in countries),
        "repeat_purchase_rate": percent(repeaters, customers),
        "by_period": [
            {"period": start, "new_customers": new_in.get(start, 0),
             "returning_customers": active_in.get(start, 0) - new_in.get(start, 0)}
            for start, _ in buckets(period, interval)
        ],
        "rfm": {
            "avg_recency_days": money(Decimal(customers * end_num - total_last) / customers) if customers else None,
            "avg_frequency": money(Decimal(total_f) / customers) if customers else None,
            "avg_monetary": money(total_m / customers) if customers else None,
            "segments": [
                {"segment": code, "label": label,
                 "customers": segments.get(key, (0, ZERO))[0], "net_sales": money(segments.get(key, (0, ZERO))[1])}
                for key, (code, label) in RFM_SEGMENTS.items()
            ],
        },
        "top_customers": _top_customers(figures["top"], period.end, limit),
        "by_country": [
            {"country": country, "customers": buyers, "net_sales": money(net)}
            for country, buyers, _, net in countries
            if buyers
        ],
    }


def _cents(expression: str) -> str:
    """SQL of a money expression in whole cents (SQLite sums decimals as floats: rounded)."""
    if connection.vendor == "postgresql":
        return f"(({expression}) * 100)::bigint"
    return f"CAST(ROUND(({expression}) * 100) AS INTEGER)"


def _net_at_least_mean(net: str) -> str:
    """SQL: an order's or buyer's net sales reach the mean M (`t.mmin`, in cents). PostgreSQL
    compares exact decimals (no conversion per row); SQLite's floats are compared in cents."""
    if connection.vendor == "postgresql":
        return f"{net} >= (SELECT mmin FROM t)::numeric / 100"
    return f"{_cents(net)} >= (SELECT mmin FROM t)"


def _ceil_div(total: str, count: str) -> str:
    """SQL of ⌈total / count⌉ for whole numbers (count > 0), in integer arithmetic."""
    return f"(CASE WHEN {total} >= 0 THEN ({total} + {count} - 1) / {count} ELSE -((-{total}) / {count}) END)"


def _rfm_segment(last_num: str, frequency: str, monetary_cents: str | None) -> str:
    """SQL of a buyer's segment key, r_hi·4 + f_hi·2 + m_hi, against the thresholds of `t`. Recency
    R = end − last day, so R ≤ mean R ⇔ last ≥ mean last. Without `monetary_cents`, m_hi is 0."""
    monetary = f"(CASE WHEN {monetary_cents} >= t.mmin THEN 1 ELSE 0 END)" if monetary_cents else "0"
    return (f"(CASE WHEN {last_num} >= t.lmin THEN 4 ELSE 0 END)"
            f" + (CASE WHEN {frequency} >= t.fmin THEN 2 ELSE 0 END) + {monetary}")


def _customer_figures(repeat_orders, single_orders, single_days, first_orders, *, limit: int) -> dict:
    """Runs the one statement and sorts its rows into their parts. Its inputs: `repeat_orders`
    (customer id, buyer country, net, day number, bucket number of the period's counted orders of
    repeat buyers), `single_orders` (customer id, net, day number of the other buyers' counted
    orders), `single_days` (day number, bucket number, country, single orders, their net, orders
    without a buyer: the period's SalesDaily rows) and `first_orders` (the bucket number of each
    repeat buyer whose first order falls in the period)."""
    repeat_sql, repeat_params = repeat_orders.query.sql_with_params()
    single_sql, single_params = single_orders.query.sql_with_params()
    days_sql, days_params = single_days.query.sql_with_params()
    first_sql, first_params = first_orders.query.sql_with_params()
    # A single buyer's R and F are their order's day and 1; M is high for the orders in `hi`.
    single_low = _rfm_segment("d.day_num", "1", None)
    sql = f"""
        WITH rp (customer_id, country, net, day_num, bucket_num) AS MATERIALIZED ({repeat_sql}),
        r AS (SELECT customer_id, COUNT(*) AS f, SUM(net) AS m, MAX(day_num) AS last_num FROM rp GROUP BY customer_id),
        sd (day_num, bucket_num, country, k, m, g) AS MATERIALIZED ({days_sql}),
        totals AS (
            SELECT rt.n + st.n AS n, rt.sf + st.n AS sf, rt.sm + st.sm AS sm, rt.sl + st.sl AS sl
            FROM (SELECT COUNT(*) AS n, CAST(COALESCE(SUM(f), 0) AS BIGINT) AS sf,
                         {_cents("COALESCE(SUM(m), 0)")} AS sm, CAST(COALESCE(SUM(last_num), 0) AS BIGINT) AS sl
                  FROM r) rt
            CROSS JOIN (SELECT CAST(COALESCE(SUM(k), 0) AS BIGINT) AS n, {_cents("COALESCE(SUM(m), 0)")} AS sm,
                               CAST(COALESCE(SUM(k * day_num), 0) AS BIGINT) AS sl FROM sd) st
        ),
        t AS MATERIALIZED (
            SELECT n, {_ceil_div("sl", "n")} AS lmin, {_ceil_div("sf", "n")} AS fmin, {_ceil_div("sm", "n")} AS mmin
            FROM totals WHERE n > 0
        ),
        s (customer_id, net, day_num) AS NOT MATERIALIZED ({single_sql}),
        hi AS MATERIALIZED (SELECT customer_id, net, day_num FROM s WHERE {_net_at_least_mean("s.net")}),
        hs AS (SELECT {single_low} AS seg, COUNT(*) AS k, SUM(d.net) AS m, SUM(d.day_num) AS l
               FROM hi d CROSS JOIN t GROUP BY 1)
        SELECT 1, seg, NULL, SUM(k), SUM(m), SUM(f), SUM(l), SUM(rp) FROM (
            SELECT {_rfm_segment("r.last_num", "r.f", _cents("r.m"))} AS seg,
                   1 AS k, r.m AS m, r.f AS f, r.last_num AS l, CASE WHEN r.f >= 2 THEN 1 ELSE 0 END AS rp
            FROM r CROSS JOIN t
            UNION ALL
            SELECT {single_low}, d.k, d.m, d.k, d.k * d.day_num, 0 FROM sd d CROSS JOIN t WHERE d.k <> 0
            UNION ALL  -- every single buyer counted low-M above; those in `hi` move to high-M (m_hi: +1)
            SELECT seg, -k, -m, -k, -l, 0 FROM hs
            UNION ALL
            SELECT seg + 1, k, m, k, l, 0 FROM hs
        ) x GROUP BY seg
        UNION ALL
        SELECT 2, customer_id, NULL, f, m, last_num, NULL, NULL FROM (
            SELECT customer_id, f, m, last_num FROM (
                SELECT customer_id, f, m, last_num FROM r ORDER BY m DESC, customer_id LIMIT %s) repeaters
            UNION ALL
            SELECT customer_id, f, m, last_num FROM (
                SELECT customer_id, 1 AS f, net AS m, day_num AS last_num FROM hi
                ORDER BY net DESC, customer_id LIMIT %s) singles
            UNION ALL
            SELECT customer_id, f, m, last_num FROM (
                SELECT customer_id, 1 AS f, net AS m, day_num AS last_num FROM s
                WHERE NOT ({_net_at_least_mean("s.net")}) AND (SELECT COUNT(*) FROM hi) < %s
                ORDER BY net DESC, customer_id LIMIT %s) below_the_mean
        ) top
        UNION ALL
        SELECT 3, bucket_num, NULL, SUM(k), NULL, NULL, NULL, NULL FROM (
            SELECT bucket_num, COUNT(*) AS k FROM ({first_sql}) n GROUP BY bucket_num
            UNION ALL
            SELECT bucket_num, SUM(k) FROM sd GROUP BY bucket_num
        ) newcomers GROUP BY bucket_num
        UNION ALL
        SELECT 4, bucket_num, NULL, SUM(k), NULL, NULL, NULL, NULL FROM (
            SELECT bucket_num, COUNT(DISTINCT customer_id) AS k FROM rp GROUP BY bucket_num
            UNION ALL
            SELECT bucket_num, SUM(k) FROM sd GROUP BY bucket_num
        ) active GROUP BY bucket_num
        UNION ALL
        SELECT 5, NULL, country, SUM(k), SUM(m), SUM(g), NULL, NULL FROM (
            SELECT country, COUNT(DISTINCT customer_id) AS k, SUM(net) AS m, 0 AS g FROM rp GROUP BY country
            UNION ALL
            SELECT country, SUM(k), SUM(m), SUM(g) FROM sd GROUP BY country
        ) countries GROUP BY country
    """
    params = [*repeat_params, *days_params, *single_params, limit, limit, limit, limit, *first_params]
    figures = {"segments": {}, "top": [], "new": {}, "active": {}, "countries": []}
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Per repeat buyer of a busy month is tens of thousands of groups: hashed in memory, not spilled.
            cursor.execute(f"SET LOCAL work_mem = '{ANALYSIS_WORK_MEM}'")
            # Starting parallel workers costs more than it saves at this size (the plan of the rare
            # below-the-mean fallback had them, started even when the fallback reads nothing).
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    # The parts share columns, so PostgreSQL widens some integers to numeric: int() them back.
    for part, key, label, a, b, c, d, e in rows:
        if part == 1:
            key = int(key)
            figures["segments"][(bool(key & 4), bool(key & 2), bool(key & 1))] = (
                int(a), money_from_sql(b), int(c), int(d), int(e))
        elif part == 2:
            figures["top"].append((int(key), int(a), money_from_sql(b), int(c)))
        elif part == 3:
            figures["new"][int(key)] = int(a)
        elif part == 4:
            figures["active"][int(key)] = int(a)
        else:
            figures["countries"].append((label, int(a), int(c), money_from_sql(b)))
    figures["top"] = sorted(figures["top"], key=lambda row: (-row[2], row[0]))[:limit]
    figures["countries"].sort(key=lambda row: (-row[1], row[0]))
    return figures


def _day(number: int) -> dt.date:
    return EPOCH + dt.timedelta(days=number)


def _top_customers(top: list[tuple], end: dt.date, limit: int) -> list[dict]:
    if not top:
        return []
    details = Customer.objects.select_related("shop").defer("shop__credentials").in_bulk([row[0] for row in top])
    result = []
    for customer_id, orders, net, last_num in top[:limit]:
        customer = details[customer_id]
        result.append({
            "id": customer.pk,
            "name": customer.name,
            "email": customer.email,
            "country": customer.country,
            "shop": {"id": customer.shop_id, "name": customer.shop.name},
            "orders": orders,
            "net_sales": money(net),
            "last_order_date": _day(last_num),
        })
    return result
