import datetime as dt
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings

from apps.core.money import ZERO, quantize_money
from apps.finance.tests.factories import CurrencyFactory
from apps.inventory.tests.factories import ProductFactory
from apps.platforms.tests.factories import PlatformFactory, ShopFactory
from apps.sales.models import Order, OrderLine, SalesDaily, SkuSalesDaily
from apps.sales.services import order_amounts_to_base, sales_rollups_rebuild
from apps.sales.tests.factories import OrderFactory, OrderLineFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shanghai")]

UTC = dt.UTC
USD_RATE = Decimal("7.12345678")
EUR_RATE = Decimal("7.80123456")
START = dt.date(2025, 3, 1)
END = dt.date(2025, 3, 31)


@pytest.fixture
def shanghai():
    with override_settings(TIME_ZONE="Asia/Shanghai"):
        yield


@pytest.fixture
def us_shop():
    return ShopFactory(platform=PlatformFactory(code="shopify"), country="US")


@pytest.fixture
def de_shop():
    return ShopFactory(
        platform=PlatformFactory(code="amazon"), country="DE", currency=CurrencyFactory(code="EUR", name="欧元")
    )


@pytest.fixture
def products():
    return [
        ProductFactory(cost_price=Decimal("20.00")),
        ProductFactory(cost_price=Decimal("35.50")),
    ]


def make_order(
    shop,
    ordered_at,
    lines,
    *,
    status=Order.Status.DELIVERED,
    country="US",
    rate=USD_RATE,
    shipping=Decimal("0.00"),
    refund=Decimal("0.00"),
    fee_rate=Decimal("0.15"),
):
    """lines: (product or None, quantity, unit_price, unit_cost_base or None)."""
    items = sum((Decimal(qty) * price for _, qty, price, _ in lines), ZERO)
    order = OrderFactory.build(
        shop=shop,
        status=status,
        buyer_country=country,
        ordered_at=ordered_at,
        items_amount=items,
        shipping_amount=shipping,
        platform_fee=quantize_money((items + shipping) * fee_rate),
        refund_amount=refund,
        total_amount=items + shipping,
    )
    line_objs = [
        OrderLineFactory.build(
            order=order,
            product=product,
            platform_sku=product.sku if product else "UNMAPPED-1",
            quantity=qty,
            unit_price=price,
            line_total=Decimal(qty) * price,
            unit_cost_base=cost,
        )
        for product, qty, price, cost in lines
    ]
    order_amounts_to_base(order=order, rate=rate, lines=line_objs)
    order.save()
    for line in line_objs:
        line.order = order
        line.save()
    return order


def expected_daily(start=START, end=END, shop_ids=None):
    """The SalesDaily figures recomputed in Python from every order, one order at a time."""
    tz = ZoneInfo("Asia/Shanghai")
    rows = defaultdict(lambda: [0, 0, ZERO, ZERO, ZERO, ZERO])
    for order in Order.objects.prefetch_related("lines"):
        day = order.ordered_at.astimezone(tz).date()
        if order.status in ("pending", "cancelled") or not start <= day <= end:
            continue
        if shop_ids is not None and order.shop_id not in shop_ids:
            continue
        row = rows[(day, order.shop_id, order.buyer_country)]
        row[0] += 1
        row[2] += order.total_amount_base
        row[3] += order.refund_amount_base
        row[4] += order.platform_fee_base
        for line in order.lines.all():
            row[1] += line.quantity
            row[5] += line.quantity * (line.unit_cost_base or ZERO)
    return {key: tuple(value) for key, value in rows.items()}


def expected_sku(start=START, end=END):
    tz = ZoneInfo("Asia/Shanghai")
    rows = defaultdict(lambda: [set(), 0, ZERO, ZERO])
    for line in OrderLine.objects.select_related("order").filter(product__isnull=False):
        order = line.order
        day = order.ordered_at.astimezone(tz).date()
        if order.status in ("pending", "cancelled") or not start <= day <= end:
            continue
        row = rows[(day, order.shop_id, line.product_id)]
        row[0].add(order.pk)
        row[1] += line.quantity
        row[2] += line.line_total_base
        row[3] += line.quantity * (line.unit_cost_base or ZERO)
    return {key: (len(value[0]), value[1], value[2], value[3]) for key, value in rows.items()}


def actual_daily(**filters):
    return {
        (r.date, r.shop_id, r.buyer_country): (
            r.orders_count, r.units, r.gross_sales_base, r.refunds_base, r.platform_fees_base, r.cogs_base
        )
        for r in SalesDaily.objects.filter(**filters)
    }


def actual_sku(**filters):
    return {
        (r.date, r.shop_id, r.product_id): (r.orders_count, r.units, r.gross_sales_base, r.cogs_base)
        for r in SkuSalesDaily.objects.filter(**filters)
    }


@pytest.fixture
def mixed_orders(us_shop, de_shop, products):
    p1, p2 = products
    at = dt.datetime(2025, 3, 10, 4, 0, tzinfo=UTC)
    make_order(us_shop, at, [(p1, 2, Decimal("19.99"), Decimal("20.00")), (p2, 1, Decimal("45.00"), Decimal("35.50"))])
    make_order(us_shop, at + dt.timedelta(hours=1), [(p1, 1, Decimal("19.99"), Decimal("20.00"))], country="CA")
    make_order(
        us_shop, at + dt.timedelta(hours=2), [(p2, 3, Decimal("45.00"), Decimal("35.50"))],
        status=Order.Status.PARTIALLY_REFUNDED, refund=Decimal("30.00"),
    )
    make_order(
        us_shop, at + dt.timedelta(hours=3), [(p1, 1, Decimal("19.99"), Decimal("20.00"))],
        status=Order.Status.REFUNDED, refund=Decimal("19.99"),
    )
    make_order(
        de_shop, at, [(p1, 1, Decimal("17.95"), Decimal("20.00")), (None, 2, Decimal("9.90"), None)],
        country="DE", rate=EUR_RATE, shipping=Decimal("4.99"),
    )
    make_order(
        de_shop, at + dt.timedelta(days=1), [(p2, 4, Decimal("39.00"), Decimal("35.50"))], country="AT", rate=EUR_RATE
    )
    make_order(us_shop, at, [(p1, 5, Decimal("19.99"), Decimal("20.00"))], status=Order.Status.PENDING)
    make_order(us_shop, at, [(p2, 5, Decimal("45.00"), Decimal("35.50"))], status=Order.Status.CANCELLED)


def test_rollup_equals_figures_recomputed_from_orders(mixed_orders):
    sales_rollups_rebuild(start=START, end=END)

    assert actual_daily() == expected_daily()
    assert actual_sku() == expected_sku()


def test_rollup_rows_carry_the_shop_platform(mixed_orders, de_shop):
    sales_rollups_rebuild(start=START, end=END)

    assert set(SalesDaily.objects.filter(shop=de_shop).values_list("platform_id", flat=True)) == {
        de_shop.platform_id
    }


def test_pending_and_cancelled_orders_are_not_counted(us_shop, products):
    at = dt.datetime(2025, 3, 5, 4, 0, tzinfo=UTC)
    make_order(us_shop, at, [(products[0], 1, Decimal("10.00"), Decimal("20.00"))])
    make_order(us_shop, at, [(products[0], 7, Decimal("10.00"), Decimal("20.00"))], status=Order.Status.PENDING)
    make_order(us_shop, at, [(products[0], 9, Decimal("10.00"), Decimal("20.00"))], status=Order.Status.CANCELLED)

    sales_rollups_rebuild(start=START, end=END)

    row = SalesDaily.objects.get()
    assert (row.orders_count, row.units) == (1, 1)
    assert row.gross_sales_base == quantize_money(Decimal("10.00") * USD_RATE)
    assert SkuSalesDaily.objects.get().units == 1


def test_refunds_are_summed_in_base_currency(us_shop, products):
    at = dt.datetime(2025, 3, 5, 4, 0, tzinfo=UTC)
    product = products[0]
    make_order(us_shop, at, [(product, 1, Decimal("50.00"), None)], status="refunded", refund=Decimal("50.00"))
    make_order(
        us_shop, at, [(product, 1, Decimal("40.00"), None)], status="partially_refunded", refund=Decimal("15.00")
    )

    sales_rollups_rebuild(start=START, end=END)

    row = SalesDaily.objects.get()
    def base(amount: str) -> Decimal:
        return quantize_money(Decimal(amount) * USD_RATE)

    assert row.refunds_base == base("50.00") + base("15.00")
    assert row.gross_sales_base == base("50.00") + base("40.00")


def test_orders_in_two_currencies_are_summed_in_base_currency(us_shop, de_shop, products):
    at = dt.datetime(2025, 3, 5, 4, 0, tzinfo=UTC)
    make_order(us_shop, at, [(products[0], 1, Decimal("100.00"), None)])
    make_order(de_shop, at, [(products[0], 1, Decimal("100.00"), None)], country="DE", rate=EUR_RATE)

    sales_rollups_rebuild(start=START, end=END)

    gross = dict(SalesDaily.objects.values_list("shop_id", "gross_sales_base"))
    assert gross == {us_shop.pk: Decimal("712.35"), de_shop.pk: Decimal("780.12")}


def test_order_at_2330_utc_belongs_to_the_next_business_day_in_shanghai(us_shop, products):
    make_order(us_shop, dt.datetime(2025, 3, 9, 23, 30, tzinfo=UTC), [(products[0], 1, Decimal("10.00"), None)])

    sales_rollups_rebuild(start=START, end=END)

    assert list(SalesDaily.objects.values_list("date", flat=True)) == [dt.date(2025, 3, 10)]
    assert list(SkuSalesDaily.objects.values_list("date", flat=True)) == [dt.date(2025, 3, 10)]


def test_order_outside_the_range_by_business_day_is_left_out(us_shop, products):
    # 2025-03-31 16:30 UTC is already 1 April in Shanghai.
    make_order(us_shop, dt.datetime(2025, 3, 31, 16, 30, tzinfo=UTC), [(products[0], 1, Decimal("10.00"), None)])

    sales_rollups_rebuild(start=START, end=END)

    assert not SalesDaily.objects.exists()


def test_lines_without_product_count_as_units_but_not_in_the_sku_rollup(us_shop, products):
    at = dt.datetime(2025, 3, 5, 4, 0, tzinfo=UTC)
    make_order(us_shop, at, [(products[0], 1, Decimal("10.00"), Decimal("20.00")), (None, 3, Decimal("5.00"), None)])

    sales_rollups_rebuild(start=START, end=END)

    daily = SalesDaily.objects.get()
    assert daily.units == 4
    assert daily.cogs_base == Decimal("20.00")
    assert list(SkuSalesDaily.objects.values_list("product_id", "units")) == [(products[0].pk, 1)]


def test_sku_rollup_counts_an_order_once_per_product(us_shop, products):
    at = dt.datetime(2025, 3, 5, 4, 0, tzinfo=UTC)
    make_order(us_shop, at, [(products[0], 1, Decimal("10.00"), None), (products[0], 2, Decimal("9.00"), None)])

    sales_rollups_rebuild(start=START, end=END)

    row = SkuSalesDaily.objects.get()
    assert (row.orders_count, row.units) == (1, 3)


def test_rebuilding_twice_gives_the_same_rows(mixed_orders):
    sales_rollups_rebuild(start=START, end=END)
    first_daily, first_sku = actual_daily(), actual_sku()

    sales_rollups_rebuild(start=START, end=END)

    assert (actual_daily(), actual_sku()) == (first_daily, first_sku)
    assert SalesDaily.objects.count() == len(first_daily)


def test_rebuilding_one_shop_leaves_other_shops_untouched(mixed_orders, us_shop, de_shop, products):
    sales_rollups_rebuild(start=START, end=END)
    de_before = actual_daily(shop=de_shop)
    de_ids = set(SalesDaily.objects.filter(shop=de_shop).values_list("pk", flat=True))
    make_order(us_shop, dt.datetime(2025, 3, 20, 4, 0, tzinfo=UTC), [(products[0], 1, Decimal("10.00"), None)])
    make_order(
        de_shop, dt.datetime(2025, 3, 20, 4, 0, tzinfo=UTC), [(products[0], 1, Decimal("10.00"), None)],
        country="DE", rate=EUR_RATE,
    )

    sales_rollups_rebuild(start=START, end=END, shop_ids=[us_shop.pk])

    assert actual_daily(shop=de_shop) == de_before
    assert set(SalesDaily.objects.filter(shop=de_shop).values_list("pk", flat=True)) == de_ids
    assert actual_daily(shop=us_shop) == expected_daily(shop_ids={us_shop.pk})


def test_rebuild_leaves_days_outside_the_range_untouched(us_shop, products):
    make_order(us_shop, dt.datetime(2025, 3, 5, 4, 0, tzinfo=UTC), [(products[0], 1, Decimal("10.00"), None)])
    make_order(us_shop, dt.datetime(2025, 3, 6, 4, 0, tzinfo=UTC), [(products[0], 1, Decimal("10.00"), None)])
    sales_rollups_rebuild(start=START, end=END)
    Order.objects.all().delete()

    sales_rollups_rebuild(start=dt.date(2025, 3, 6), end=dt.date(2025, 3, 6))

    assert list(SalesDaily.objects.values_list("date", flat=True)) == [dt.date(2025, 3, 5)]


def test_order_amounts_to_base_converts_every_amount_and_line():
    order = Order(
        items_amount=Decimal("10.01"), shipping_amount=Decimal("3.33"), tax_amount=Decimal("0.87"),
        discount_amount=Decimal("1.11"), platform_fee=Decimal("1.50"), refund_amount=Decimal("2.22"),
        total_amount=Decimal("13.10"),
    )
    line = OrderLine(line_total=Decimal("10.01"))
    rate = Decimal("7.15550000")

    order_amounts_to_base(order=order, rate=rate, lines=[line])

    assert order.exchange_rate == rate
    assert (
        order.items_amount_base, order.shipping_amount_base, order.tax_amount_base, order.discount_amount_base,
        order.platform_fee_base, order.refund_amount_base, order.total_amount_base,
    ) == (
        Decimal("71.63"), Decimal("23.83"), Decimal("6.23"), Decimal("7.94"), Decimal("10.73"), Decimal("15.89"),
        Decimal("93.74"),
    )
    assert line.line_total_base == Decimal("71.63")

