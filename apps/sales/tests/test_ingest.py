"""Orders come in exactly once, whatever brings them: the upsert and what follows from it."""
import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from apps.core.testing import count_queries
from apps.finance.models import FinancialRecord
from apps.finance.tests.factories import CurrencyFactory, ExchangeRateFactory, base_currency
from apps.inventory import services as stock
from apps.inventory.models import InventoryItem, StockMovement
from apps.inventory.tests.factories import BundleComponentFactory, ProductFactory, WarehouseFactory
from apps.platforms.models import Listing
from apps.platforms.tests.factories import ListingFactory, ShopFactory
from apps.sales.ingest import CustomerData, LineData, OrderData, orders_upsert
from apps.sales.ingest.effects import _ANALYZE_AFTER_ORDERS, deferred_effects_apply
from apps.sales.ingest.fastwrite import CopyWriter, OrmWriter, row_writer
from apps.sales.models import Customer, Order, OrderLine, SalesDaily, SkuSalesDaily
from apps.sales.services import order_delete

pytestmark = pytest.mark.django_db
DAY = dt.date(2025, 7, 1)
WHEN = dt.datetime(2025, 7, 1, 4, 0, tzinfo=dt.UTC)  # 12:00 in Asia/Shanghai


@pytest.fixture(autouse=True, params=["copy", "orm"] if connection.vendor == "postgresql" else ["orm"])
def writer(request, settings):
    """Every test runs with each row writer the database has: COPY (PostgreSQL) and the ORM's bulk statements."""
    settings.SALES_INGEST_WRITER = "auto" if request.param == "copy" else "orm"
    expected = CopyWriter if request.param == "copy" else OrmWriter
    assert isinstance(row_writer(), expected)
    return request.param


@pytest.fixture
def shop():
    base_currency()
    usd = CurrencyFactory(code="USD")
    for offset in range(-3, 5):
        ExchangeRateFactory(currency=usd, rate_date=DAY + dt.timedelta(days=offset), rate=Decimal("7.00"))
    warehouse = WarehouseFactory(code="CN-SZ")
    return ShopFactory(currency=usd, default_warehouse=warehouse)


@pytest.fixture
def product(shop):
    product = ProductFactory(sku="MUG-01", cost_price=Decimal("10.00"))
    ListingFactory(shop=shop, platform_sku="shop-MUG-01", product=product)
    stock.stock_adjustment_create(product=product, warehouse=shop.default_warehouse, quantity_change=20,
                                  reason="opening")
    return product


def make_order(pid="1001", *, status="paid", sku="shop-MUG-01", quantity=2, refund="0", buyer="b-1",
               email="a@example.com", shipped_at=None, when=WHEN, updated=None):
    total = Decimal("25.00") * quantity
    return OrderData(
        platform_order_id=pid, order_number=f"#{pid}", ordered_at=when, currency="USD", status=status,
        platform_status=status, buyer_country="us", items_amount=total, total_amount=total,
        platform_fee=Decimal("2.50"), refund_amount=Decimal(refund), shipped_at=shipped_at,
        platform_updated_at=updated or when,
        customer=CustomerData(platform_buyer_id=buyer, email=email, name="Ann"),
        lines=[LineData(platform_sku=sku, quantity=quantity, unit_price=Decimal("25.00"), line_total=total,
                        title="Mug", platform_line_id=f"{pid}-1")],
    )


def test_a_new_order_is_stored_with_base_amounts_lines_and_cost(shop, product):
    result = orders_upsert(shop=shop, orders=[make_order()])
    assert (result.created, result.updated, result.unchanged) == (1, 0, 0)
    order = Order.objects.get()
    assert (order.total_amount_base, order.exchange_rate, order.buyer_country) == (Decimal("350.00"), Decimal("7"), "US")
    line = OrderLine.objects.get()
    assert (line.product_id, line.line_total_base, line.unit_cost_base) == (product.pk, Decimal("350.00"), Decimal("10.00"))


def test_the_same_data_twice_changes_nothing(shop, product):
    batch = [make_order("1"), make_order("2", status="shipped", shipped_at=WHEN)]
    orders_upsert(shop=shop, orders=batch)
    counts = lambda: (Order.objects.count(), OrderLine.objects.count(), Customer.objects.count(),  # noqa: E731
                      FinancialRecord.objects.count(), StockMovement.objects.count(), SalesDaily.objects.count())
    before = counts()
    result = orders_upsert(shop=shop, orders=batch)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 2)
    assert counts() == before


def test_a_changed_order_is_updated_once_and_its_stock_leaves_once(shop, product):
    orders_upsert(shop=shop, orders=[make_order()])
    shipped = make_order(status="shipped", shipped_at=WHEN, updated=WHEN + dt.timedelta(hours=1))
    assert orders_upsert(shop=shop, orders=[shipped]).updated == 1
    assert orders_upsert(shop=shop, orders=[shipped]).unchanged == 1
    assert InventoryItem.objects.get(product=product).on_hand == 18
    assert StockMovement.objects.filter(movement_type="sale").count() == 1
    assert Order.objects.get().status == "shipped"


def test_a_refund_updates_the_finance_records_and_rollups(shop, product):
    orders_upsert(shop=shop, orders=[make_order()])
    orders_upsert(shop=shop, orders=[make_order(status="partially_refunded", refund="10.00")])
    records = dict(FinancialRecord.objects.values_list("record_type", "amount_base"))
    assert records == {"sale": Decimal("350.00"), "refund": Decimal("70.00"), "platform_fee": Decimal("17.50")}
    assert SalesDaily.objects.aggregate(r=Sum("refunds_base"))["r"] == Decimal("70.00")


def test_a_cancelled_order_leaves_the_rollups_and_the_books(shop, product):
    orders_upsert(shop=shop, orders=[make_order()])
    assert SalesDaily.objects.get().orders_count == 1
    orders_upsert(shop=shop, orders=[make_order(status="cancelled")])
    assert not SalesDaily.objects.exists()
    assert not FinancialRecord.objects.exists()


def test_customers_are_deduplicated_by_buyer_id_and_by_email(shop, product):
    orders_upsert(shop=shop, orders=[
        make_order("1", buyer="b-1"), make_order("2", buyer="b-1"),
        make_order("3", buyer="", email="Guest@Example.com"), make_order("4", buyer="", email="guest@example.com"),
    ])
    assert Customer.objects.count() == 2
    assert Order.objects.filter(customer__platform_buyer_id="b-1").count() == 2
    assert Order.objects.filter(customer__email="guest@example.com").count() == 2


def test_an_unknown_sku_is_kept_and_its_listing_waits_in_the_pairing_queue(shop, product):
    orders_upsert(shop=shop, orders=[make_order(sku="NEW-THING")])
    line = OrderLine.objects.get()
    assert line.product_id is None and line.platform_sku == "NEW-THING"
    listing = Listing.objects.get(platform_sku="NEW-THING")
    assert listing.product_id is None and line.listing_id == listing.pk


def test_an_unknown_sku_equal_to_a_master_sku_is_mapped_at_once(shop, product):
    orders_upsert(shop=shop, orders=[make_order(sku="MUG-01")])
    assert OrderLine.objects.get().product_id == product.pk
    assert Listing.objects.get(platform_sku="MUG-01").product_id == product.pk


def test_a_malformed_order_is_rejected_with_its_reason_and_the_rest_are_stored(shop, product):
    bad = make_order("bad", refund="999")
    result = orders_upsert(shop=shop, orders=[make_order("good"), bad])
    assert result.created == 1
    assert result.rejected == [(bad, "退款金额大于订单总额")]
    assert list(Order.objects.values_list("platform_order_id", flat=True)) == ["good"]


def test_an_order_on_a_day_without_a_rate_is_rejected_naming_the_day(shop, product):
    far = make_order("old", when=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    result = orders_upsert(shop=shop, orders=[far])
    assert result.created == 0
    assert "USD" in result.rejected[0][1] and "2020-01-01" in result.rejected[0][1]


def test_a_shipped_order_without_enough_stock_stays_pending_until_stock_arrives(shop, product):
    from apps.sales.ingest.effects import order_lines_post_stock

    orders_upsert(shop=shop, orders=[make_order(status="shipped", shipped_at=WHEN, quantity=25)])
    line = OrderLine.objects.get()
    assert line.stock_posted_at is None
    stock.stock_adjustment_create(product=product, warehouse=shop.default_warehouse, quantity_change=10, reason="found")
    assert order_lines_post_stock(order_ids=[line.order_id]) == 1
    assert order_lines_post_stock(order_ids=[line.order_id]) == 0
    assert InventoryItem.objects.get(product=product).on_hand == 5


def test_a_bundle_takes_its_components_out_of_stock(shop, product):
    bundle = ProductFactory(sku="MUG-SET", is_bundle=True)
    BundleComponentFactory(bundle=bundle, component=product, quantity=2)
    orders_upsert(shop=shop, orders=[make_order(sku="MUG-SET", quantity=3, status="shipped", shipped_at=WHEN)])
    assert InventoryItem.objects.get(product=product).on_hand == 20 - 6
    assert not InventoryItem.objects.filter(product=bundle).exclude(on_hand=0).exists()


def test_platform_fulfilled_orders_do_not_touch_our_stock(shop, product):
    order = make_order(status="shipped", shipped_at=WHEN)
    order.fulfillment_channel = "platform"
    orders_upsert(shop=shop, orders=[order])
    assert InventoryItem.objects.get(product=product).on_hand == 20


def test_the_ledger_holds_after_ingest(shop, product):
    orders_upsert(shop=shop, orders=[make_order(str(n), status="shipped", shipped_at=WHEN) for n in range(5)])
    item = InventoryItem.objects.get(product=product)
    assert StockMovement.objects.filter(product=product).aggregate(s=Sum("quantity"))["s"] == item.on_hand == 10


def test_a_batch_costs_the_same_number_of_queries_for_1_and_25_orders(shop, product):
    # 25: Django's SQLite backend sends at most 999 parameters a statement, so the portable writer
    # inserts 999 // (the order's ~34 columns) orders at a time; the count is the same up to there.
    one = count_queries(lambda: orders_upsert(shop=shop, orders=[make_order("x0", buyer="c0")]))
    many = [make_order(f"y{n}", buyer=f"d{n}") for n in range(25)]
    assert count_queries(lambda: orders_upsert(shop=shop, orders=many)) == one


def test_a_changed_quantity_updates_the_line_and_the_rollup(shop, product):
    orders_upsert(shop=shop, orders=[make_order(quantity=2)])
    line_id = OrderLine.objects.get().pk
    assert orders_upsert(shop=shop, orders=[make_order(quantity=3)]).updated == 1
    line = OrderLine.objects.get()
    assert (line.pk, line.quantity, line.line_total_base) == (line_id, 3, Decimal("525.00"))
    assert SalesDaily.objects.get().units == 3


def test_a_line_no_longer_sent_is_removed_unless_its_stock_left(shop, product):
    def two_lines(status="paid", shipped_at=None, lines=("MUG", "NEW")):
        order = make_order(status=status, shipped_at=shipped_at)
        skus = {"MUG": "shop-MUG-01", "NEW": "NEW-THING"}
        order.lines = [LineData(platform_sku=skus[key], quantity=1, unit_price=Decimal("25.00"),
                                line_total=Decimal("25.00"), platform_line_id=key) for key in lines]
        return order

    orders_upsert(shop=shop, orders=[two_lines(status="shipped", shipped_at=WHEN)])
    assert OrderLine.objects.get(platform_line_id="MUG").stock_posted_at is not None
    orders_upsert(shop=shop, orders=[two_lines(status="shipped", shipped_at=WHEN, lines=("NEW",))])
    orders_upsert(shop=shop, orders=[two_lines(status="delivered", shipped_at=WHEN, lines=())])
    assert list(OrderLine.objects.values_list("platform_line_id", flat=True)) == ["MUG"]
    assert StockMovement.objects.filter(movement_type="sale").count() == 1


def test_a_guest_is_matched_by_email_to_the_buyer_who_has_it(shop, product):
    orders_upsert(shop=shop, orders=[make_order("1", buyer="b-9", email="Ann@Example.com")])
    orders_upsert(shop=shop, orders=[make_order("2", buyer="", email="ann@example.com ")])
    customer = Customer.objects.get()
    assert (customer.platform_buyer_id, customer.email) == ("b-9", "ann@example.com")
    assert Order.objects.filter(customer=customer).count() == 2


def test_an_updated_order_records_when_it_changed(shop, product):
    orders_upsert(shop=shop, orders=[make_order()])
    before = Order.objects.get().updated_at
    orders_upsert(shop=shop, orders=[make_order(status="shipped", shipped_at=WHEN)])
    assert Order.objects.get().updated_at > before


def test_shipping_many_products_costs_the_same_queries_as_one(shop, product):
    for n in range(3):
        other = ProductFactory(sku=f"CUP-{n}", cost_price=Decimal("5.00"))
        ListingFactory(shop=shop, platform_sku=f"shop-CUP-{n}", product=other)
        if n:  # CUP-0 has no stock row yet: it is created with the others' locks
            stock.stock_adjustment_create(product=other, warehouse=shop.default_warehouse, quantity_change=9,
                                          reason="opening")

    def shipped(pid, skus):
        order = make_order(pid, status="shipped", shipped_at=WHEN, buyer=f"b-{pid}")
        order.lines = [LineData(platform_sku=sku, quantity=1, unit_price=Decimal("25.00"), line_total=Decimal("25.00"),
                                platform_line_id=f"{pid}-{sku}") for sku in skus]
        order.items_amount = order.total_amount = Decimal("25.00") * len(skus)
        return order

    one = count_queries(lambda: orders_upsert(shop=shop, orders=[shipped("s1", ["shop-MUG-01"])]))
    many = count_queries(lambda: orders_upsert(
        shop=shop, orders=[shipped("s2", ["shop-MUG-01", "shop-CUP-0", "shop-CUP-1", "shop-CUP-2"])]
    ))
    assert many == one
    # MUG-01 twice, CUP-1 and CUP-2; CUP-0's line waits for stock
    assert StockMovement.objects.filter(movement_type="sale").count() == 4
    assert InventoryItem.objects.filter(product__sku="CUP-0", on_hand=0).exists()


def test_a_naive_time_is_read_in_the_default_time_zone_and_compares_equal_next_time(shop, product):
    order = make_order(status="shipped", shipped_at=dt.datetime(2025, 7, 1, 12, 0))  # naive: Asia/Shanghai
    orders_upsert(shop=shop, orders=[order])
    assert Order.objects.get().shipped_at == WHEN
    assert orders_upsert(shop=shop, orders=[order]).unchanged == 1


def test_an_outbound_updates_the_stock_row_and_its_time(shop, product):
    before = InventoryItem.objects.get(product=product).updated_at
    orders_upsert(shop=shop, orders=[make_order(status="shipped", shipped_at=WHEN)])
    item = InventoryItem.objects.get(product=product)
    assert item.on_hand == 18 and item.available == 18
    assert item.updated_at > before
    assert InventoryItem.objects.filter(updated_at__gt=before, product=product).exists()


def test_an_unchanged_batch_finds_its_buyers_through_the_stored_orders(shop, product):
    batch = [make_order("1"), make_order("2", buyer="b-2")]
    orders_upsert(shop=shop, orders=batch)
    with CaptureQueriesContext(connection) as ctx:
        assert orders_upsert(shop=shop, orders=batch).unchanged == 2
    # The stored orders' buyers are read by primary key, not looked up again by buyer id or e-mail.
    [where] = [q["sql"].split(" WHERE ", 1)[1] for q in ctx.captured_queries if 'FROM "customers"' in q["sql"]]
    assert '"customers"."id"' in where and "platform_buyer_id" not in where and "email" not in where

    orders_upsert(shop=shop, orders=[make_order("3", buyer="b-2")])  # a new order of a known buyer
    assert Customer.objects.count() == 2
    assert Order.objects.get(platform_order_id="3").customer == Order.objects.get(platform_order_id="2").customer


def test_deferred_effects_wait_for_the_caller_and_then_match_the_immediate_ones(shop, product):
    from apps.sales.ingest.effects import deferred_effects_apply

    first = orders_upsert(shop=shop, orders=[make_order("d1", status="shipped", shipped_at=WHEN)], defer_effects=True)
    second = orders_upsert(shop=shop, orders=[make_order("d2", status="shipped", shipped_at=WHEN, buyer="b-2")],
                           defer_effects=True)
    assert not StockMovement.objects.filter(movement_type="sale").exists() and not SalesDaily.objects.exists()
    first.merge(second)
    assert first.rollup_days == {DAY} and len(first.leaving_order_ids) == 2
    deferred_effects_apply(shop_id=shop.pk, rollup_days=first.rollup_days, leaving_order_ids=first.leaving_order_ids)
    deferred = (InventoryItem.objects.get(product=product).on_hand,
                list(SalesDaily.objects.values_list("orders_count", "units", "gross_sales_base")))

    Order.objects.all().delete()
    SalesDaily.objects.all().delete()
    SkuSalesDaily.objects.all().delete()
    StockMovement.objects.filter(movement_type="sale").delete()
    InventoryItem.objects.filter(product=product).update(on_hand=20)
    orders_upsert(shop=shop, orders=[make_order("d1", status="shipped", shipped_at=WHEN),
                                     make_order("d2", status="shipped", shipped_at=WHEN, buyer="b-2")])
    assert deferred == (16, [(2, 4, Decimal("700.00"))]) == (
        InventoryItem.objects.get(product=product).on_hand,
        list(SalesDaily.objects.values_list("orders_count", "units", "gross_sales_base")))


def test_stored_base_amounts_follow_the_rule_of_order_amounts_to_base(shop, product):
    from apps.sales.services import order_amounts_to_base

    data = make_order(status="partially_refunded", refund="10.00")
    data.shipping_amount, data.tax_amount, data.discount_amount = Decimal("3.33"), Decimal("0.07"), Decimal("0")
    orders_upsert(shop=shop, orders=[data])
    stored = Order.objects.get()
    expected = Order(**{f: getattr(stored, f) for f in (
        "items_amount", "shipping_amount", "tax_amount", "discount_amount", "platform_fee", "refund_amount",
        "total_amount")})
    order_amounts_to_base(order=expected, rate=Decimal("7.00"))
    fields = [f"{name}_base" for name in ("items_amount", "shipping_amount", "tax_amount", "discount_amount",
                                          "platform_fee", "refund_amount", "total_amount")]
    assert [getattr(stored, f) for f in fields] == [getattr(expected, f) for f in fields]
    assert stored.exchange_rate == Decimal("7.00")


def test_listings_seen_by_one_batch_are_not_looked_up_again_by_the_next(shop, product):
    seen: dict = {}
    orders_upsert(shop=shop, orders=[make_order("1"), make_order("2", sku="NEW-SKU")], listings_seen=seen)
    assert set(seen) == {"shop-MUG-01", "NEW-SKU"}
    with CaptureQueriesContext(connection) as queries:
        result = orders_upsert(shop=shop, orders=[make_order("3"), make_order("4", sku="NEW-SKU")],
                               listings_seen=seen)
    assert result.created == 2
    assert not [q for q in queries.captured_queries if '"listings"' in q["sql"]]
    assert OrderLine.objects.filter(order__platform_order_id="4").get().listing_id == seen["NEW-SKU"][0]
    assert OrderLine.objects.filter(order__platform_order_id="3").get().product_id == product.pk


def test_the_records_of_new_orders_are_those_the_record_rule_gives(shop, product):
    from apps.sales.ingest.effects import RECORD_FIELDS, _record_rows

    long_number = make_order("1002", status="partially_refunded", refund="10.00")
    long_number.order_number = ""
    long_number.platform_order_id = "P" * 64
    cancelled = make_order("1003", status="cancelled")
    orders_upsert(shop=shop, orders=[make_order("1001"), long_number, cancelled])

    stored = sorted(FinancialRecord.objects.values_list(*RECORD_FIELDS), key=lambda r: r[-1])
    expected = sorted((row for order in Order.objects.all() for row in _record_rows(order)), key=lambda r: r[-1])
    assert len(stored) == 2 + 3 and stored == expected


def test_a_customers_first_order_is_their_earliest_counted_one_and_follows_changes(shop, product):
    later, latest = WHEN + dt.timedelta(days=2), WHEN + dt.timedelta(days=5)
    orders_upsert(shop=shop, orders=[
        make_order("p", status="pending", when=WHEN - dt.timedelta(days=1)),  # not counted
        make_order("1", when=WHEN), make_order("2", when=later), make_order("3", when=latest),
    ])
    customer = Customer.objects.get()
    assert customer.first_ordered_at == WHEN

    orders_upsert(shop=shop, orders=[make_order("1", status="cancelled", when=WHEN, updated=WHEN + dt.timedelta(hours=1))])
    customer.refresh_from_db()
    assert customer.first_ordered_at == later

    order_delete(order=Order.objects.get(platform_order_id="2"))
    customer.refresh_from_db()
    assert customer.first_ordered_at == latest

    orders_upsert(shop=shop, orders=[make_order("3", status="cancelled", when=latest, updated=latest + dt.timedelta(hours=1))])
    customer.refresh_from_db()
    assert customer.first_ordered_at is None


def test_an_order_moved_to_another_buyer_moves_the_first_order_too(shop, product):
    orders_upsert(shop=shop, orders=[make_order("1", buyer="ann", email="ann@example.com")])
    orders_upsert(shop=shop, orders=[make_order("1", buyer="bob", email="bob@example.com",
                                                updated=WHEN + dt.timedelta(hours=1))])
    firsts = dict(Customer.objects.values_list("platform_buyer_id", "first_ordered_at"))
    assert firsts == {"ann": None, "bob": WHEN}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="planner statistics of PostgreSQL")
def test_after_a_large_import_the_planner_counts_the_orders_the_transaction_wrote(shop, product, writer):
    orders_upsert(shop=shop, orders=[make_order(str(n)) for n in range(30)], defer_effects=True)
    deferred_effects_apply(shop_id=shop.pk, rollup_days=[DAY], leaving_order_ids=[],
                           orders_written=_ANALYZE_AFTER_ORDERS)

    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'orders'")
        assert cursor.fetchone()[0] == 30
    assert SalesDaily.objects.get(shop=shop, date=DAY).orders_count == 30


def test_a_returning_buyers_earlier_new_order_moves_their_first_order(shop, product):
    orders_upsert(shop=shop, orders=[make_order("1", when=WHEN)])
    earlier = WHEN - dt.timedelta(days=3)
    orders_upsert(shop=shop, orders=[make_order("0", when=earlier), make_order("x", buyer="", email="")])
    assert Customer.objects.get().first_ordered_at == earlier


def test_pages_of_new_orders_add_to_the_rollups_exactly_what_a_rebuild_gives(shop, product):
    from apps.sales.services import sales_rollups_rebuild

    other = ProductFactory(sku="LAMP-01", cost_price=Decimal("30.00"))
    ListingFactory(shop=shop, platform_sku="shop-LAMP-01", product=other)
    late = dt.datetime(2025, 7, 1, 17, 0, tzinfo=dt.UTC)  # 01:00 on 2 July in Shanghai
    pages = [
        [make_order("p1", quantity=1), make_order("p2", sku="shop-LAMP-01", buyer="b-2", email="b@example.com"),
         make_order("p3", status="cancelled", buyer="b-3", email="c@example.com")],
        # the same day and product again, a new day, a pending order, an unknown SKU, a refund
        [make_order("p4", quantity=3, refund="10.00"), make_order("p5", when=late, buyer="b-4", email="d@example.com"),
         make_order("p6", status="pending"), make_order("p7", sku="shop-UNKNOWN", buyer="b-5", email="e@example.com")],
    ]
    for page in pages:
        assert orders_upsert(shop=shop, orders=page).created == len(page)

    def rollups():
        return (
            sorted(SalesDaily.objects.values_list("date", "shop", "platform", "buyer_country", "orders_count", "units",
                                                  "gross_sales_base", "refunds_base", "platform_fees_base", "cogs_base")),
            sorted(SkuSalesDaily.objects.values_list("date", "shop", "product", "orders_count", "units",
                                                     "gross_sales_base", "cogs_base")),
        )

    added = rollups()
    sales_rollups_rebuild(start=DAY, end=DAY + dt.timedelta(days=1), shop_ids=[shop.pk])
    assert added == rollups()
    daily, sku = added
    assert [(row[0], row[4], row[5]) for row in daily] == [(DAY, 4, 8), (DAY + dt.timedelta(days=1), 1, 2)]
    assert [(row[0], row[2], row[3], row[4]) for row in sku] == [
        (DAY, product.pk, 2, 4), (DAY, other.pk, 1, 2), (DAY + dt.timedelta(days=1), product.pk, 1, 2)]
