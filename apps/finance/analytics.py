"""Profit analysis (利润分析): sales figures from the rollups (SalesDaily; SkuSalesDaily per SKU) and
approved expenses of the period, grouped by month, shop, platform or SKU. Pure reads."""
import datetime as dt
from decimal import Decimal

from django.db.models import Q
from django.db.models.functions import TruncMonth

from apps.core.api.params import AnalysisQuery, PageRequest
from apps.core.money import ZERO
from apps.finance.models import Expense
from apps.sales.analytics.metrics import (
    DAILY_SUMS,
    SKU_SUMS,
    SalesFigures,
    buckets,
    daily_rows,
    money,
    money_sum,
    percent,
    sku_rows,
)

GROUP_BYS = ("month", "shop", "platform", "sku")
METRICS = ("gross_sales", "refunds", "net_sales", "cogs", "platform_fees", "gross_profit", "expenses", "net_profit",
           "net_margin")
ORDERING_FIELDS = ("key", *METRICS)
COMPANY_LABEL = "公司（未分摊费用）"
# group_by → ((key, label) on SalesDaily, (key, label) on Expense).
_DIMENSIONS = {
    "shop": (("shop_id", "shop__name"), ("shop_id", "shop__name")),
    "platform": (("platform__code", "platform__name"), ("shop__platform__code", "shop__platform__name")),
}

PROFIT_DEFINITIONS = """\
- 销售口径同上（计入订单、本位币）：gross_sales、refunds、net_sales = gross_sales − refunds、cogs、platform_fees、
  gross_profit = net_sales − cogs − platform_fees。
- expenses 费用 = Σ 已批准（approved）费用的本位币金额（amount_base），费用日期 expense_date 在 [start, end] 内；
  待审批与已驳回的不计。可见范围：您的店铺的费用 + 不属于任何店铺的公司费用；指定 shop 或 platform 时只含该店铺/平台店铺的费用。
- net_profit 净利润 = gross_profit − expenses；net_margin 净利率 = net_profit / net_sales × 100（净销售额为 0 时为 null）。
- group_by=month：区间覆盖的每个自然月一行（key 为 YYYY-MM，无数据为 0）。
- group_by=shop / platform：有店铺的费用计入该店铺/其平台；公司费用（无店铺）单独一行，key 为 null、
  label 为“公司（未分摊费用）”，该行销售为 0、净利润为负的费用额。
- group_by=sku：销售额为订单行小计（不含运费与税），cogs 为该 SKU 成本；退款、平台费用与费用无法归属到 SKU，
  refunds、platform_fees、expenses 为 null，gross_profit = net_profit = gross_sales − cogs。
- totals：整个区间的合计（与 group_by 无关，总是按订单与全部可见费用计算），net_profit 已扣除公司费用。
排序 `ordering`：key 或任一指标（前加 - 降序），默认 month 按 key 升序，其余按 -net_sales；null 排在最后。
数据来源：SalesDaily / SkuSalesDaily 汇总表与费用表（expense_date, status 索引），不扫描订单表。"""


def _expenses(query: AnalysisQuery):
    """Approved expenses of the period: the scope's shops, plus company-wide ones unless narrowed."""
    scope = query.scope
    visible = Q(shop__isnull=False) & scope.q(platform="shop__platform_id")
    if not scope.narrowed:
        visible |= Q(shop__isnull=True)
    return Expense.objects.filter(
        visible, status=Expense.Status.APPROVED,
        expense_date__gte=query.period.start, expense_date__lte=query.period.end,
    ).order_by()


def _row(key, label, figures: SalesFigures, expenses: Decimal | None, *, per_sku: bool = False) -> dict:
    net_profit = figures.gross_profit - (expenses or ZERO)
    values = {
        "gross_sales": figures.gross, "refunds": None if per_sku else figures.refunds,
        "net_sales": figures.net, "cogs": figures.cogs, "platform_fees": None if per_sku else figures.fees,
        "gross_profit": figures.gross_profit, "expenses": None if per_sku else expenses or ZERO,
        "net_profit": net_profit,
    }
    row = {"key": key, "label": label, **{name: money(value) for name, value in values.items()},
           "net_margin": percent(net_profit, figures.net)}
    sort = {**values, "net_margin": None if not figures.net else net_profit / figures.net, "key": key}
    return {"row": row, "sort": sort}


def _month(value) -> dt.date:
    value = value.date() if isinstance(value, dt.datetime) else value
    return value.replace(day=1)


def _grouped_rows(query: AnalysisQuery, group_by: str) -> list[dict]:
    period, scope = query.period, query.scope
    expenses = _expenses(query)
    if group_by == "sku":
        sales = sku_rows(period, scope).values("product_id", "product__sku", "product__name").annotate(**SKU_SUMS)
        return [
            {**_row(row["product__sku"], row["product__name"], SalesFigures.from_row(row), None, per_sku=True),
             "product_id": row["product_id"]}
            for row in sales.order_by()
        ]
    if group_by == "month":
        sales = {
            _month(row["month"]): SalesFigures.from_row(row)
            for row in daily_rows(period, scope).annotate(month=TruncMonth("date")).values("month")
            .annotate(**DAILY_SUMS).order_by()
        }
        spent = {
            _month(row["month"]): row["total"]
            for row in expenses.annotate(month=TruncMonth("expense_date")).values("month")
            .annotate(total=money_sum("amount_base"))
        }
        result = []
        for month, _ in buckets(period, "month"):
            label = f"{month.year:04d}-{month.month:02d}"
            result.append(_row(label, label, sales.get(month, SalesFigures()), spent.get(month, ZERO)))
        return result

    (sales_key, sales_label), (spent_key, spent_label) = _DIMENSIONS[group_by]
    labels: dict = {}
    sales: dict = {}
    for row in daily_rows(period, scope).values(sales_key, sales_label).annotate(**DAILY_SUMS).order_by():
        sales[row[sales_key]] = SalesFigures.from_row(row)
        labels[row[sales_key]] = row[sales_label]
    spent: dict = {}
    for row in expenses.values(spent_key, spent_label).annotate(total=money_sum("amount_base")):
        spent[row[spent_key]] = row["total"]
        if row[spent_key] is not None:
            labels.setdefault(row[spent_key], row[spent_label])
    result = [_row(key, label, sales.get(key, SalesFigures()), spent.get(key, ZERO)) for key, label in labels.items()]
    if None in spent:  # company-wide expenses: no shop, so no platform either
        result.append(_row(None, COMPANY_LABEL, SalesFigures(), spent[None]))
    return result


def profit_analysis(*, query: AnalysisQuery, group_by: str, ordering: tuple[str, bool], page: PageRequest) -> dict:
    """One page of profit rows by `group_by`, with the period's totals."""
    rows = _grouped_rows(query, group_by)
    name, descending = ordering
    known = sorted((r for r in rows if r["sort"][name] is not None), key=lambda r: str(r["sort"]["key"]))
    known.sort(key=lambda r: r["sort"][name], reverse=descending)
    missing = [r for r in rows if r["sort"][name] is None]
    ordered = [r["row"] | ({"product_id": r["product_id"]} if "product_id" in r else {}) for r in known + missing]

    figures = SalesFigures.from_row(daily_rows(query.period, query.scope).aggregate(**DAILY_SUMS))
    total_expenses = _expenses(query).aggregate(total=money_sum("amount_base"))["total"]
    return page.envelope(
        page.slice(ordered), len(ordered), group_by=group_by, start=query.period.start, end=query.period.end,
        totals=_row(None, "合计", figures, total_expenses)["row"],
    )
