"""Team performance (团队绩效): each salesperson's figures through the shops they own (Shop.salesperson),
from SalesDaily, against their monthly targets."""
import calendar
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models.functions import TruncMonth

from apps.core.api.params import AnalysisQuery
from apps.core.money import ZERO
from apps.platforms.models import Shop
from apps.sales.models import Salesperson, SalesTarget

from .metrics import DAILY_SUMS, SalesFigures, buckets, daily_rows, money, percent

TEAM_DEFINITIONS = """\
每位销售人员的指标来自其负责的店铺（店铺的“负责人”），只含您可见范围内（及 shop/platform 限定内）的店铺：
net_sales、orders、gross_profit 等口径同上。没有负责人的店铺合并为 salesperson = null 的“未分配”行。
- months：区间覆盖的每个自然月：target 为该月目标（SalesTarget，未设为 null），net_sales 为该月落在区间内的部分，
  attainment = net_sales / target × 100。
- target：区间目标 = Σ 各月目标 × 该月落在区间内的天数 / 该月天数（按天折算），未设任何目标为 null；
  attainment 达成率 = net_sales / target × 100。
列出负责范围内店铺的所有销售人员（即使没有销售），按 net_sales 降序。"""


def _month_label(month: dt.date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def team_performance(*, query: AnalysisQuery) -> dict:
    """Per salesperson: the period's figures, prorated target and attainment, month by month."""
    period, scope = query.period, query.scope
    rows = (
        daily_rows(period, scope)
        .annotate(month=TruncMonth("date"))
        .values("shop__salesperson_id", "month")
        .annotate(**DAILY_SUMS)
        .order_by()
    )
    figures: dict[int | None, dict[dt.date, SalesFigures]] = defaultdict(dict)
    for row in rows:
        month = row["month"].date() if isinstance(row["month"], dt.datetime) else row["month"]
        figures[row["shop__salesperson_id"]][month] = SalesFigures.from_row(row)

    shops = Shop.objects.filter(scope.q(shop="pk", platform="platform_id"), salesperson__isnull=False)
    people = {
        person.pk: person
        for person in Salesperson.objects.filter(pk__in=shops.values("salesperson_id")).order_by("name", "pk")
    }
    months = [start for start, _ in buckets(period, "month")]
    targets = {
        (salesperson_id, month): amount
        for salesperson_id, month, amount in SalesTarget.objects.filter(
            salesperson_id__in=list(people), month__gte=months[0], month__lte=months[-1]
        ).values_list("salesperson_id", "month", "target_amount_base")
    }

    items = []
    for salesperson_id in [*people, None]:
        by_month = figures.get(salesperson_id, {})
        if salesperson_id is None and not by_month:
            continue
        total = sum(by_month.values(), SalesFigures())
        monthly, period_target = [], None
        for month in months:
            target = targets.get((salesperson_id, month))
            net = by_month[month].net if month in by_month else ZERO
            if target is not None:
                period_target = (period_target or ZERO) + target * _share_of_month_in(month, period.start, period.end)
            monthly.append({
                "month": _month_label(month), "target": money(target), "net_sales": money(net),
                "attainment": percent(net, target) if target is not None else None,
            })
        person = people.get(salesperson_id)
        items.append({
            "salesperson": None if person is None else {"id": person.pk, "name": person.name, "team": person.team},
            "label": "未分配" if person is None else person.name,
            **total.as_dict(),
            "target": money(period_target),
            "attainment": percent(total.net, period_target) if period_target is not None else None,
            "months": monthly,
        })
    items.sort(key=lambda item: -Decimal(item["net_sales"]))
    return {"start": period.start, "end": period.end, "items": items}


def _share_of_month_in(month: dt.date, start: dt.date, end: dt.date) -> Decimal:
    """The fraction of `month`'s days that lie within start..end."""
    days_in_month = calendar.monthrange(month.year, month.month)[1]
    last = month.replace(day=days_in_month)
    overlap = (min(last, end) - max(month, start)).days + 1
    return Decimal(max(overlap, 0)) / Decimal(days_in_month)
