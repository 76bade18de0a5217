"""The sales figures every analysis shares, their definitions and how they are written in responses.

Figures come from the rollups (SalesDaily, SkuSalesDaily), which hold counted orders only; the
definitions below are part of the API contract and are repeated in the OpenAPI descriptions."""
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import DecimalField, IntegerField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from apps.core.api.params import Period, Scope
from apps.core.money import CENT, MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS, ZERO, quantize_money
from apps.sales.models import SalesDaily, SkuSalesDaily

HUNDRED = Decimal("100")

SALES_DEFINITIONS = """\
**口径（契约的一部分）**
- 计入订单：状态不是 pending（待付款）也不是 cancelled（已取消），且下单时间按业务时区（settings.TIME_ZONE，默认 Asia/Shanghai）落在 [start, end] 内的订单。
- gross_sales 销售额 = Σ 订单总额（本位币，total_amount_base，按下单当日汇率折算）。
- refunds 退款 = Σ 退款金额（本位币，refund_amount_base）。
- net_sales 净销售额 = gross_sales − refunds。
- orders 订单数 = 计入订单数；units 件数 = Σ 订单行数量。
- aov 客单价 = gross_sales / orders。
- cogs 销售成本 = Σ 订单行数量 × 单位成本（本位币，unit_cost_base；未知成本按 0）。
- platform_fees 平台费用 = Σ 平台费用（本位币，platform_fee_base）。
- gross_profit 毛利 = net_sales − cogs − platform_fees。
- margin 毛利率 = gross_profit / net_sales × 100。

**格式**：金额为两位小数的字符串（本位币 settings.BASE_CURRENCY）；百分比为百分数、两位小数的字符串（"12.50" 即 12.50%）；
计数为整数；分母为 0 的比率（aov、margin、占比、变化率）为 null；没有数据的区间返回 0，不报错。"""


def money_output() -> DecimalField:
    return DecimalField(max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES)


def money_sum(field: str, condition: Q | None = None) -> Coalesce:
    return Coalesce(Sum(field, filter=condition), Value(ZERO), output_field=money_output())


def count_sum(field: str, condition: Q | None = None) -> Coalesce:
    return Coalesce(Sum(field, filter=condition), Value(0), output_field=IntegerField())


def daily_sums(condition: Q | None = None, prefix: str = "") -> dict:
    """Aggregates over SalesDaily rows (only those matching `condition`); `SalesFigures.from_row` reads them."""
    return {
        f"{prefix}orders": count_sum("orders_count", condition),
        f"{prefix}units": count_sum("units", condition),
        f"{prefix}gross": money_sum("gross_sales_base", condition),
        f"{prefix}refunds": money_sum("refunds_base", condition),
        f"{prefix}fees": money_sum("platform_fees_base", condition),
        f"{prefix}cogs": money_sum("cogs_base", condition),
    }


DAILY_SUMS = daily_sums()
# SkuSalesDaily holds line totals and cost only: refunds and fees belong to whole orders.
SKU_SUMS = {
    "orders": count_sum("orders_count"),
    "units": count_sum("units"),
    "gross": money_sum("gross_sales_base"),
    "cogs": money_sum("cogs_base"),
}


def money(value: Decimal | None) -> str | None:
    return None if value is None else f"{quantize_money(value):.2f}"


def ratio(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    return None if not whole else Decimal(part) / Decimal(whole)


def percent(part: Decimal | int, whole: Decimal | int) -> str | None:
    """part / whole × 100 as a two-place string, or None when whole is 0."""
    value = ratio(part, whole)
    return None if value is None else f"{quantize_money(value * HUNDRED):.2f}"


def change(current: Decimal | int, previous: Decimal | int) -> str | None:
    """Change in percent against |previous| (so a loss shrinking reads as a rise); None if previous is 0."""
    if not previous:
        return None
    return f"{quantize_money((Decimal(current) - Decimal(previous)) / abs(Decimal(previous)) * HUNDRED):.2f}"


def decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else f"{value.quantize(CENT):.2f}"


@dataclass
class SalesFigures:
    """Sums of counted orders; refunds and fees are None where they cannot be attributed (per SKU)."""

    orders: int = 0
    units: int = 0
    gross: Decimal = ZERO
    refunds: Decimal | None = ZERO
    fees: Decimal | None = ZERO
    cogs: Decimal = ZERO

    @classmethod
    def from_row(cls, row: dict) -> "SalesFigures":
        return cls(
            orders=row.get("orders") or 0,
            units=row.get("units") or 0,
            gross=row.get("gross") or ZERO,
            refunds=row.get("refunds", ZERO) if "refunds" in row else None,
            fees=row.get("fees", ZERO) if "fees" in row else None,
            cogs=row.get("cogs") or ZERO,
        )

    def __add__(self, other: "SalesFigures") -> "SalesFigures":
        def both(a, b):
            return None if a is None or b is None else a + b

        return SalesFigures(
            orders=self.orders + other.orders, units=self.units + other.units, gross=self.gross + other.gross,
            refunds=both(self.refunds, other.refunds), fees=both(self.fees, other.fees), cogs=self.cogs + other.cogs,
        )

    @property
    def net(self) -> Decimal:
        return self.gross - (self.refunds or ZERO)

    @property
    def gross_profit(self) -> Decimal:
        return self.net - self.cogs - (self.fees or ZERO)

    def values(self) -> dict:
        """Raw numbers by metric name, for comparisons and sorting."""
        return {
            "gross_sales": self.gross, "refunds": self.refunds, "net_sales": self.net, "orders": self.orders,
            "units": self.units, "aov": ratio(self.gross, self.orders), "cogs": self.cogs,
            "platform_fees": self.fees, "gross_profit": self.gross_profit,
            "margin": ratio(self.gross_profit * HUNDRED, self.net),
        }

    def as_dict(self) -> dict:
        return {
            "gross_sales": money(self.gross),
            "refunds": money(self.refunds),
            "net_sales": money(self.net),
            "orders": self.orders,
            "units": self.units,
            "aov": money(ratio(self.gross, self.orders)),
            "cogs": money(self.cogs),
            "platform_fees": money(self.fees),
            "gross_profit": money(self.gross_profit),
            "margin": percent(self.gross_profit, self.net),
        }


METRIC_NAMES = tuple(SalesFigures().as_dict())


def daily_rows(period: Period, scope: Scope) -> QuerySet:
    """SalesDaily rows of the period within the scope (index: shop/platform + date)."""
    return SalesDaily.objects.filter(scope.q(), date__gte=period.start, date__lte=period.end)


def sku_rows(period: Period, scope: Scope) -> QuerySet:
    return SkuSalesDaily.objects.filter(
        scope.q(platform="shop__platform_id"), date__gte=period.start, date__lte=period.end
    )


def bucket_start(day: dt.date, interval: str) -> dt.date:
    """The first day of the day / ISO week (Monday) / month that holds `day`."""
    if interval == "week":
        return day - dt.timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    return day


def next_bucket(start: dt.date, interval: str) -> dt.date:
    if interval == "week":
        return start + dt.timedelta(days=7)
    if interval == "month":
        return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return start + dt.timedelta(days=1)


def buckets(period: Period, interval: str) -> Iterator[tuple[dt.date, dt.date]]:
    """(first day, first day of the next) of every bucket touching the period, in order."""
    start = bucket_start(period.start, interval)
    while start <= period.end:
        following = next_bucket(start, interval)
        yield start, following
        start = following
