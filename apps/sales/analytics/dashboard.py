"""Business overview (经营概览): KPIs, trend and platform split from SalesDaily; recent orders from an
index range scan of the period's newest orders."""
import datetime as dt
from collections import defaultdict

from django.db.models import F, Q, Sum
from django.db.models.functions import TruncMonth, TruncWeek

from apps.core.api.params import AnalysisQuery, Period, Scope, business_zone
from apps.core.money import ZERO, quantize_money
from apps.inventory.models import InventoryItem, Shipment
from apps.platforms.models import Platform
from apps.sales.models import Order

from .metrics import SalesFigures, buckets, change, daily_rows, daily_sums, money, percent

INTERVALS = ("day", "week", "month")  # weeks start on Monday (ISO)


def dashboard_kpis(*, query: AnalysisQuery) -> dict:
    """The period's figures beside the previous period of equal length, plus stock and outbound alerts."""
    period, previous = query.period, query.period.previous()
    # One pass over both periods' rollup rows: each sum is filtered to its own period.
    in_current = Q(date__gte=period.start)
    sums = {**daily_sums(in_current, "cur_"), **daily_sums(~in_current, "prev_")}
    row = daily_rows(Period(previous.start, period.end), query.scope).aggregate(**sums)
    current = SalesFigures.from_row({k[4:]: v for k, v in row.items() if k.startswith("cur_")})
    before = SalesFigures.from_row({k[5:]: v for k, v in row.items() if k.startswith("prev_")})
    now_values, before_values = current.values(), before.values()
    return {
        "start": period.start,
        "end": period.end,
        "previous_start": previous.start,
        "previous_end": previous.end,
        "current": current.as_dict(),
        "previous": before.as_dict(),
        "change": {
            name: _change(name, now_values[name], before_values[name]) for name in now_values
        },
        "low_stock_count": InventoryItem.objects.filter(available__lt=F("reorder_point")).count(),
        "pending_shipments": _pending_shipments(query.scope),
    }


def _change(name: str, now, before) -> str | None:
    if now is None or before is None:
        return None
    if name == "margin":  # a rate changes by percentage points, not by a percentage of itself
        return money(quantize_money(now) - quantize_money(before))
    return change(now, before)


def _pending_shipments(scope: Scope) -> int:
    """Reserved (not yet shipped) outbound: of orders in scope, plus manual outbound with no order
    unless the request narrowed to a shop or platform (manual outbound belongs to no shop)."""
    shipments = Shipment.objects.filter(status=Shipment.Status.RESERVED)
    if scope.shop_ids is None and scope.platform_id is None:
        return shipments.count()
    in_scope = Q(order__isnull=False) & scope.q(shop="order__shop_id", platform="order__shop__platform_id")
    if not scope.narrowed:
        in_scope |= Q(order__isnull=True)
    return shipments.filter(in_scope).count()


def dashboard_sales_trend(*, query: AnalysisQuery, interval: str) -> dict:
    """Gross sales and orders per day, ISO week (Monday first) or month, in total and per platform;
    every bucket of the period is present, empty ones with zeros."""
    period = query.period
    bucket = {"day": F("date"), "week": TruncWeek("date"), "month": TruncMonth("date")}[interval]
    rows = (
        daily_rows(period, query.scope)
        .annotate(bucket=bucket)
        .values("bucket", "platform_id")
        .annotate(gross=Sum("gross_sales_base"), orders=Sum("orders_count"))
        .order_by()
    )
    cells: dict[dt.date, dict[int, tuple]] = defaultdict(dict)
    platform_ids = set()
    for row in rows:
        day = row["bucket"].date() if isinstance(row["bucket"], dt.datetime) else row["bucket"]
        cells[day][row["platform_id"]] = (row["gross"] or ZERO, row["orders"] or 0)
        platform_ids.add(row["platform_id"])
    platforms = list(Platform.objects.filter(pk__in=platform_ids).order_by("code").values("id", "code", "name"))
    series = []
    for start, following in buckets(period, interval):
        by_platform = cells.get(start, {})
        series.append({
            "period": start,
            "start": max(start, period.start),
            "end": min(following - dt.timedelta(days=1), period.end),
            "gross_sales": money(sum((g for g, _ in by_platform.values()), ZERO)),
            "orders": sum(o for _, o in by_platform.values()),
            "by_platform": {
                p["code"]: {
                    "gross_sales": money(by_platform.get(p["id"], (ZERO, 0))[0]),
                    "orders": by_platform.get(p["id"], (ZERO, 0))[1],
                }
                for p in platforms
            },
        })
    return {
        "start": period.start,
        "end": period.end,
        "interval": interval,
        "platforms": [{"code": p["code"], "name": p["name"]} for p in platforms],
        "series": series,
    }


def dashboard_platform_distribution(*, query: AnalysisQuery) -> dict:
    """Gross sales, net sales and orders per platform with each platform's share of the total."""
    rows = list(
        daily_rows(query.period, query.scope)
        .values("platform_id", "platform__code", "platform__name")
        .annotate(gross=Sum("gross_sales_base"), refunds=Sum("refunds_base"), orders=Sum("orders_count"))
        .order_by("-gross", "platform__code")
    )
    total_gross = sum((row["gross"] for row in rows), ZERO)
    total_orders = sum(row["orders"] for row in rows)
    return {
        "start": query.period.start,
        "end": query.period.end,
        "total_gross_sales": money(total_gross),
        "total_orders": total_orders,
        "items": [
            {
                "platform": row["platform__code"],
                "name": row["platform__name"],
                "gross_sales": money(row["gross"]),
                "net_sales": money(row["gross"] - row["refunds"]),
                "orders": row["orders"],
                "gross_sales_share": percent(row["gross"], total_gross),
                "orders_share": percent(row["orders"], total_orders),
            }
            for row in rows
        ],
    }


def dashboard_recent_orders(*, query: AnalysisQuery, limit: int) -> list[dict]:
    """The newest orders placed in the period, any status (index: shop/time or time/id)."""
    since, until = query.period.bounds()
    orders = (
        Order.objects.filter(query.scope.q(platform="shop__platform_id"), ordered_at__gte=since, ordered_at__lt=until)
        .select_related("shop__platform").defer("shop__credentials")
        .order_by("-ordered_at", "-id")[:limit]
    )
    return [
        {
            "id": order.pk,
            "order_number": order.order_number or order.platform_order_id,
            "platform_order_id": order.platform_order_id,
            "shop": {"id": order.shop_id, "name": order.shop.name},
            "platform": {"code": order.shop.platform.code, "name": order.shop.platform.name},
            "buyer_country": order.buyer_country,
            "currency": order.currency_id,
            "total_amount": money(order.total_amount),
            "total_amount_base": money(order.total_amount_base),
            "status": order.status,
            "status_display": order.get_status_display(),
            "fulfillment_channel": order.fulfillment_channel,
            "ordered_at": order.ordered_at.astimezone(business_zone()),
        }
        for order in orders
    ]
