"""The dataset the analysis tests share, stored through `orders_upsert` as real orders are, and the
figures it should give, recomputed here from the order specs alone (never from the rollups).

Three shops: `us` (shopify, USD, salesperson 张三), `de` (amazon, EUR, salesperson 李四), `other`
(shopify, USD, no salesperson). USD is worth 7.20 until 28 Feb, 7.25 from 1 Mar, 7.30 from 10 Mar;
EUR 7.90. Business days are Asia/Shanghai: 23:30 UTC is the next day, 16:00 UTC is midnight."""
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings

from apps.core.money import ZERO, quantize_money
from apps.finance.models import ExchangeRate
from apps.finance.tests.factories import CurrencyFactory, ExchangeRateFactory, base_currency
from apps.inventory.tests.factories import ProductFactory
from apps.platforms.tests.factories import PlatformFactory, ShopFactory
from apps.sales.ingest import CustomerData, LineData, OrderData, orders_upsert
from apps.sales.tests.factories import SalespersonFactory

TZ = ZoneInfo("Asia/Shanghai")
START, END = dt.date(2025, 3, 1), dt.date(2025, 3, 31)
PREVIOUS_START, PREVIOUS_END = dt.date(2025, 1, 29), dt.date(2025, 2, 28)
D = Decimal


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def rate(currency: str, day: dt.date) -> Decimal:
    if currency == "CNY":
        return D("1")
    if currency == "EUR":
        return D("7.90")
    return D("7.30") if day >= dt.date(2025, 3, 10) else D("7.25") if day >= dt.date(2025, 3, 1) else D("7.20")


# sku → (cost, cost currency)
PRODUCTS = {"MUG": (D("20.00"), "CNY"), "LAMP": (D("5.00"), "USD"), "CASE": (D("3.00"), "EUR")}
SHOPS = {"us": ("shopify", "USD"), "de": ("amazon", "EUR"), "other": ("shopify", "USD")}


@dataclass
class Spec:
    shop: str
    pid: str
    at: dt.datetime
    status: str
    lines: list[tuple[str, int, Decimal]]
    buyer: str | None
    country: str = "US"
    shipping: Decimal = ZERO
    fee: Decimal = ZERO
    refund: Decimal = ZERO
    channel: str = "merchant"
    shipped_at: dt.datetime | None = None
    extra: dict = field(default_factory=dict)

    @property
    def day(self) -> dt.date:
        return self.at.astimezone(TZ).date()

    @property
    def currency(self) -> str:
        return SHOPS[self.shop][1]

    @property
    def platform(self) -> str:
        return SHOPS[self.shop][0]

    @property
    def counted(self) -> bool:
        return self.status not in ("pending", "cancelled")

    @property
    def total(self) -> Decimal:
        return sum((qty * price for _, qty, price in self.lines), ZERO) + self.shipping

    def base(self, amount: Decimal) -> Decimal:
        return quantize_money(amount * rate(self.currency, self.day))

    def unit_cost(self, sku: str) -> Decimal:
        cost, currency = PRODUCTS[sku]
        return quantize_money(cost * rate(currency, self.day))

    def data(self) -> OrderData:
        items = self.total - self.shipping
        return OrderData(
            platform_order_id=self.pid, order_number=f"#{self.pid}", ordered_at=self.at, currency=self.currency,
            status=self.status, buyer_country=self.country, items_amount=items, shipping_amount=self.shipping,
            total_amount=self.total, platform_fee=self.fee, refund_amount=self.refund,
            fulfillment_channel=self.channel, shipped_at=self.shipped_at, platform_updated_at=self.at,
            customer=CustomerData(platform_buyer_id=self.buyer, name=f"买家 {self.buyer}", country=self.country)
            if self.buyer else None,
            lines=[LineData(platform_sku=sku, quantity=qty, unit_price=price, line_total=qty * price,
                            platform_line_id=f"{self.pid}-{n}") for n, (sku, qty, price) in enumerate(self.lines)],
        )


SPECS = [
    Spec("us", "U1", utc(2025, 3, 5, 4), "delivered", [("MUG", 2, D("30"))], "b1", shipping=D("5"), fee=D("6.50"),
         shipped_at=utc(2025, 3, 6, 4)),
    # 23:30 UTC on 28 Feb is 07:30 on 1 March in Shanghai: March, at 1 March's rate.
    Spec("us", "U2", utc(2025, 2, 28, 23, 30), "paid", [("LAMP", 1, D("50"))], "b2", fee=D("5")),
    # 16:30 UTC on 31 March is 00:30 on 1 April: not March.
    Spec("us", "U3", utc(2025, 3, 31, 16, 30), "paid", [("MUG", 1, D("40"))], "b3", country="CA", fee=D("4")),
    Spec("us", "U4", utc(2025, 3, 12, 10), "partially_refunded", [("MUG", 3, D("20"))], "b1", fee=D("6"),
         refund=D("20"), shipped_at=utc(2025, 3, 13, 22)),
    Spec("us", "U5", utc(2025, 3, 15, 8), "cancelled", [("LAMP", 2, D("50"))], "b4", fee=D("10")),
    Spec("us", "U6", utc(2025, 3, 16, 8), "pending", [("MUG", 1, D("80"))], "b5"),
    # 15:30 UTC on 31 March is 23:30 in Shanghai: still March.
    Spec("us", "U7", utc(2025, 3, 31, 15, 30), "shipped", [("MUG", 1, D("40"))], "b3", country="GB", fee=D("4"),
         shipped_at=utc(2025, 4, 1, 3, 30)),
    Spec("us", "U8", utc(2025, 2, 10, 6), "delivered", [("MUG", 1, D("30"))], "b1", fee=D("3")),
    # 20:00 UTC on 28 Jan is 04:00 on 29 Jan, the first day of the previous period.
    Spec("us", "U9", utc(2025, 1, 28, 20), "delivered", [("LAMP", 1, D("45"))], "b6", fee=D("4.50")),
    Spec("de", "D1", utc(2025, 3, 20, 9), "delivered", [("CASE", 2, D("25")), ("MUG", 1, D("15"))], "e1",
         country="DE", fee=D("9.75"), channel="platform", shipped_at=utc(2025, 3, 21, 9)),
    Spec("de", "D2", utc(2025, 3, 21, 9), "refunded", [("CASE", 1, D("40"))], "e2", country="FR", fee=D("6"),
         refund=D("40"), channel="platform"),
    Spec("de", "D3", utc(2025, 2, 20, 9), "delivered", [("CASE", 1, D("20"))], "e1", country="DE", fee=D("3")),
    Spec("other", "O1", utc(2025, 3, 8, 2), "paid", [("MUG", 5, D("10"))], "x1", fee=D("5")),
]


@dataclass
class World:
    shops: dict
    products: dict
    salespeople: dict
    platforms: dict


def build_world(specs=SPECS) -> World:
    """Currencies and daily rates, platforms, shops, products, salespeople; then the orders."""
    cny = base_currency()
    currencies = {code: CurrencyFactory(code=code) for code in ("USD", "EUR")}
    days = [dt.date(2025, 1, 20) + dt.timedelta(days=n) for n in range(81)]
    ExchangeRate.objects.bulk_create(
        ExchangeRateFactory.build(currency=currency, base_currency=cny, rate_date=day, rate=rate(code, day))
        for day in days for code, currency in currencies.items()
    )
    platforms = {code: PlatformFactory(code=code) for code in ("shopify", "amazon")}
    salespeople = {"us": SalespersonFactory(name="张三"), "de": SalespersonFactory(name="李四")}
    shops = {
        key: ShopFactory(name=f"店铺-{key}", platform=platforms[code], currency=currencies[currency],
                         salesperson=salespeople.get(key))
        for key, (code, currency) in SHOPS.items()
    }
    money = {"CNY": cny, **currencies}
    products = {sku: ProductFactory(sku=sku, name=f"商品 {sku}", cost_price=cost, cost_currency=money[currency])
                for sku, (cost, currency) in PRODUCTS.items()}
    store(shops, specs)
    return World(shops=shops, products=products, salespeople=salespeople, platforms=platforms)


def store(shops: dict, specs) -> None:
    by_shop = defaultdict(list)
    for spec in specs:
        by_shop[spec.shop].append(spec.data())
    for key, orders in by_shop.items():
        result = orders_upsert(shop=shops[key], orders=orders)
        assert not result.rejected, result.rejected


def counted(specs=SPECS, start=START, end=END, shops=None, platform=None) -> list[Spec]:
    return [
        s for s in specs
        if s.counted and start <= s.day <= end and (shops is None or s.shop in shops)
        and (platform is None or s.platform == platform)
    ]


def figures(specs: list[Spec]) -> dict:
    """The sales metrics of these (counted) orders, as the API writes them."""
    gross = sum((s.base(s.total) for s in specs), ZERO)
    refunds = sum((s.base(s.refund) for s in specs), ZERO)
    fees = sum((s.base(s.fee) for s in specs), ZERO)
    cogs = sum((qty * s.unit_cost(sku) for s in specs for sku, qty, _ in s.lines), ZERO)
    net = gross - refunds
    profit = net - cogs - fees
    return {
        "gross_sales": f"{gross:.2f}", "refunds": f"{refunds:.2f}", "net_sales": f"{net:.2f}",
        "orders": len(specs), "units": sum(qty for s in specs for _, qty, _ in s.lines),
        "aov": f"{quantize_money(gross / len(specs)):.2f}" if specs else None,
        "cogs": f"{cogs:.2f}", "platform_fees": f"{fees:.2f}", "gross_profit": f"{profit:.2f}",
        "margin": f"{quantize_money(profit / net * 100):.2f}" if net else None,
    }


def pct_change(now: str | int, before: str | int) -> str | None:
    now, before = D(str(now)), D(str(before))
    return None if not before else f"{quantize_money((now - before) / abs(before) * 100):.2f}"


@pytest.fixture
def shanghai():
    with override_settings(TIME_ZONE="Asia/Shanghai", BASE_CURRENCY="CNY"):
        yield


@pytest.fixture
def world(shanghai, db) -> World:
    return build_world()


def test_the_dataset_keeps_every_order_and_cuts_days_in_shanghai(world):
    assert [s.day for s in SPECS[1:3]] == [dt.date(2025, 3, 1), dt.date(2025, 4, 1)]
    assert {s.pid for s in counted()} == {"U1", "U2", "U4", "U7", "D1", "D2", "O1"}
