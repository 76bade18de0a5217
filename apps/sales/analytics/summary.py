"""Sales summary (销售汇总): the KPIs grouped by one dimension, sorted and paged in the database.
Day, month, shop, platform and country read SalesDaily; SKU reads SkuSalesDaily."""
from django.db.models import F, FloatField, Value
from django.db.models.functions import Cast, NullIf, TruncMonth

from apps.core.api.params import AnalysisQuery, PageRequest

from .metrics import DAILY_SUMS, METRIC_NAMES, SKU_SUMS, SalesFigures, daily_rows, sku_rows

GROUP_BYS = ("day", "month", "shop", "platform", "country", "sku")
ORDERING_FIELDS = ("key", *METRIC_NAMES)

SUMMARY_DEFINITIONS = """\
按 `group_by` 分组：day（业务日）、month（月）、shop（店铺）、platform（平台）、country（买家国家）、sku（商品）。
day/month/shop/platform/country 读取日汇总 SalesDaily；sku 读取 SKU 日汇总 SkuSalesDaily。
只返回有计入订单的分组（没有销售的日期不补 0）。每行：key（分组键：日期 YYYY-MM-DD、月份 YYYY-MM、店铺 id、
平台代码、国家代码（空串为未知）、SKU）、label（显示名称）及各项指标；`totals` 为整个区间的合计。
**按 SKU 时**：gross_sales 为订单行小计之和（本位币，不含订单级运费与税），orders 为含该 SKU 的订单数；
退款与平台费用属于整单，无法归属到 SKU，refunds 与 platform_fees 为 null，net_sales = gross_sales，
gross_profit = gross_sales − cogs，margin = gross_profit / gross_sales，aov = gross_sales / 含该 SKU 的订单数；
totals 为各行之和（一单含多个 SKU 时，orders 中计入多次）。
排序 `ordering` 可用 key 或任一指标名（前加 - 降序），默认 day/month 按 key 升序，其余按 -gross_sales；同值按 key 排序。"""


def _dimension(group_by: str) -> tuple[dict, tuple[str, ...], str]:
    """(annotations, fields grouped on, the field that sorts as `key`)."""
    if group_by == "day":
        return {}, ("date",), "date"
    if group_by == "month":
        return {"month": TruncMonth("date")}, ("month",), "month"
    if group_by == "shop":
        return {}, ("shop_id", "shop__name"), "shop__name"
    if group_by == "platform":
        return {}, ("platform_id", "platform__code", "platform__name"), "platform__code"
    if group_by == "country":
        return {}, ("buyer_country",), "buyer_country"
    return {}, ("product_id", "product__sku", "product__name"), "product__sku"


def _as_float(expression):
    # A float copy of a figure, used only to sort: SQLite would otherwise divide integers as integers.
    return Cast(expression, output_field=FloatField())


def _sort_expressions(per_sku: bool) -> dict:
    net = F("gross") if per_sku else F("gross") - F("refunds")
    profit = net - F("cogs") if per_sku else net - F("cogs") - F("fees")
    return {
        "gross_sales": F("gross"),
        "refunds": Value(None, output_field=FloatField()) if per_sku else F("refunds"),
        "net_sales": net,
        "orders": F("orders"),
        "units": F("units"),
        "aov": _as_float(F("gross")) / NullIf(_as_float(F("orders")), Value(0.0)),
        "cogs": F("cogs"),
        "platform_fees": Value(None, output_field=FloatField()) if per_sku else F("fees"),
        "gross_profit": profit,
        "margin": _as_float(profit) / NullIf(_as_float(net), Value(0.0)),
    }


def _label(group_by: str, row: dict) -> dict:
    if group_by == "day":
        return {"key": row["date"], "label": row["date"].isoformat()}
    if group_by == "month":
        month = row["month"]
        text = f"{month.year:04d}-{month.month:02d}"
        return {"key": text, "label": text}
    if group_by == "shop":
        return {"key": row["shop_id"], "label": row["shop__name"]}
    if group_by == "platform":
        return {"key": row["platform__code"], "label": row["platform__name"]}
    if group_by == "country":
        return {"key": row["buyer_country"], "label": row["buyer_country"] or "未知"}
    return {"key": row["product__sku"], "label": row["product__name"], "product_id": row["product_id"]}


def sales_summary(*, query: AnalysisQuery, group_by: str, ordering: tuple[str, bool], page: PageRequest) -> dict:
    """One page of the period's figures per `group_by` value, sorted by `ordering` (name, descending)."""
    per_sku = group_by == "sku"
    rows = sku_rows(query.period, query.scope) if per_sku else daily_rows(query.period, query.scope)
    sums = SKU_SUMS if per_sku else DAILY_SUMS
    annotations, fields, key_field = _dimension(group_by)
    grouped = rows.annotate(**annotations).values(*fields).annotate(**sums)

    name, descending = ordering
    if name == "key":
        ordered, sort_field = grouped, F(key_field)
    else:
        ordered, sort_field = grouped.annotate(sort_value=_sort_expressions(per_sku)[name]), F("sort_value")
    primary = sort_field.desc(nulls_last=True) if descending else sort_field.asc(nulls_last=True)
    ordered = ordered.order_by(primary, *fields)

    total = grouped.order_by().count()
    items = []
    for row in ordered[page.offset:page.offset + page.page_size]:
        items.append({**_label(group_by, row), **SalesFigures.from_row(row).as_dict()})
    return page.envelope(
        items, total, group_by=group_by, start=query.period.start, end=query.period.end,
        totals=SalesFigures.from_row(rows.aggregate(**sums)).as_dict(),
    )
