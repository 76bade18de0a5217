"""Importing an Amazon "All Orders" report: items grouped into orders, AFN/MFN, currencies."""
import datetime as dt
from decimal import Decimal

import pytest

from apps.finance.tests.factories import CurrencyFactory
from apps.inventory.tests.factories import ProductFactory
from apps.platforms.imports.orders import OrdersImporter
from apps.platforms.imports.testing import DATA_DIR, daily_rates, import_file
from apps.platforms.models import ImportJob, Listing
from apps.sales.models import Order, OrderLine, SalesDaily

from .factories import PlatformFactory, ShopFactory

pytestmark = pytest.mark.django_db
KIND = ImportJob.Kind.AMAZON_ORDERS
REPORT = "amazon_all_orders.txt"
HEADER = ("amazon-order-id\tpurchase-date\tlast-updated-date\torder-status\tfulfillment-channel\tsales-channel\t"
          "sku\titem-status\tquantity\tcurrency\titem-price\tship-country\n")


@pytest.fixture
def shop():
    daily_rates({"EUR": "7.80", "GBP": "9.10", "SEK": "0.68"}, start=dt.date(2025, 6, 28), days=10)
    ProductFactory(sku="BOTTLE-750", cost_price=Decimal("35.00"))
    return ShopFactory(platform=PlatformFactory(code="amazon"), code="amazon-eu", currency=CurrencyFactory(code="EUR"),
                       country="DE")


def item(order_id, sku, quantity="1", price="10.00", *, day="2025-07-01", status="Shipped", channel="Amazon",
         currency="EUR", country="DE"):
    return (f"{order_id}\t{day}T10:00:00+00:00\t{day}T12:00:00+00:00\t{status}\t{channel}\tAmazon.de\t{sku}\t"
            f"Shipped\t{quantity}\t{currency}\t{price}\t{country}\n")


def test_a_report_becomes_orders_with_one_line_per_item(shop):
    job = import_file(KIND, REPORT, shop=shop)
    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    assert job.total_rows == 10
    # 6 orders: the multi-channel (Non-Amazon) row is another channel's order, not this shop's.
    assert (job.created_count, job.updated_count, job.unchanged_count) == (6, 0, 0)
    assert not Order.objects.filter(platform_order_id__startswith="S01").exists()
    german = Order.objects.get(platform_order_id="302-1234567-1234567")
    assert german.lines.count() == 2
    assert (german.items_amount, german.tax_amount, german.discount_amount, german.total_amount) == (
        Decimal("45.97"), Decimal("7.34"), Decimal("4.00"), Decimal("49.31"))


def test_item_price_is_for_the_whole_quantity(shop):
    import_file(KIND, REPORT, shop=shop)
    line = OrderLine.objects.get(order__platform_order_id="171-7654321-7654321")
    assert (line.quantity, line.unit_price, line.line_total) == (3, Decimal("14.99"), Decimal("44.97"))


def test_fulfilment_channel_and_status_are_mapped_with_the_raw_status_kept(shop):
    import_file(KIND, REPORT, shop=shop)
    orders = {o.platform_order_id: o for o in Order.objects.all()}
    assert orders["302-1234567-1234567"].fulfillment_channel == Order.FulfillmentChannel.PLATFORM
    assert orders["171-7654321-7654321"].fulfillment_channel == Order.FulfillmentChannel.MERCHANT
    assert {pid: o.status for pid, o in orders.items()} == {
        "302-1234567-1234567": "shipped", "171-7654321-7654321": "paid", "026-1112223-3334445": "shipped",
        "305-9998887-7776665": "pending", "028-5556667-8889990": "cancelled", "249-4445556-6667778": "shipped",
    }
    assert orders["171-7654321-7654321"].platform_status == "Unshipped"


def test_each_order_keeps_its_currency_and_its_base_amount_at_the_days_rate(shop):
    import_file(KIND, REPORT, shop=shop)
    orders = {o.platform_order_id: o for o in Order.objects.all()}
    uk = orders["026-1112223-3334445"]
    assert (uk.currency_id, uk.exchange_rate, uk.buyer_country) == ("GBP", Decimal("9.10"), "GB")
    assert uk.lines.count() == 2  # the cancelled third item sold nothing
    assert uk.total_amount == Decimal("35.48")  # 19.99 + 9.99 + 2.99 + 3.33 + 0.50 + 1.67 − 2.99
    assert uk.total_amount_base == Decimal("322.87")
    assert orders["249-4445556-6667778"].currency_id == "SEK"
    # A pending order has no price and no currency yet: the shop's currency, zero amounts.
    pending = orders["305-9998887-7776665"]
    assert (pending.currency_id, pending.total_amount) == ("EUR", Decimal("0.00"))


def test_times_are_utc_and_unknown_skus_wait_in_the_pairing_queue(shop):
    import_file(KIND, REPORT, shop=shop)
    italian = Order.objects.get(platform_order_id="171-7654321-7654321")
    assert italian.ordered_at == dt.datetime(2025, 7, 1, 17, 30, tzinfo=dt.UTC)
    assert Listing.objects.get(shop=shop, platform_sku="BOTTLE-750").product.sku == "BOTTLE-750"
    assert Listing.objects.get(shop=shop, platform_sku="BRUSH-01").product is None


def test_the_same_report_twice_changes_nothing(shop):
    import_file(KIND, REPORT, shop=shop)
    before = (Order.objects.count(), OrderLine.objects.count(), SalesDaily.objects.count())
    job = import_file(KIND, REPORT, shop=shop)
    assert (job.created_count, job.updated_count, job.unchanged_count) == (0, 0, 6)
    assert (Order.objects.count(), OrderLine.objects.count(), SalesDaily.objects.count()) == before


def test_a_later_report_updates_the_orders_that_changed(shop):
    import_file(KIND, (HEADER + item("111-0000000-0000001", "BOTTLE-750", status="Unshipped")).encode(), shop=shop)
    job = import_file(KIND, (HEADER + item("111-0000000-0000001", "BOTTLE-750", status="Shipped")
                             + item("111-0000000-0000002", "BOTTLE-750")).encode(), shop=shop)
    assert (job.created_count, job.updated_count, job.unchanged_count) == (1, 1, 0)
    assert Order.objects.get(platform_order_id="111-0000000-0000001").status == "shipped"


def test_bad_rows_reject_the_report_with_their_line_numbers(shop):
    content = (HEADER + item("111-0000000-0000001", "A", quantity="two")
               + item("111-0000000-0000002", "B", currency="XYZ")
               + item("111-0000000-0000003", "C", country="Germany")
               + item("111-0000000-0000004", "D", status="Lost in space")
               + item("111-0000000-0000005", "E", price="12,99")).encode()  # a decimal comma is fine
    job = import_file(KIND, content, shop=shop)
    assert job.status == ImportJob.Status.REJECTED
    assert [(e["row"], e["field"]) for e in job.errors] == [
        (2, "quantity"), (3, "currency"), (4, "ship-country"), (5, "order-status")]
    assert not Order.objects.exists() and not Listing.objects.exists()


def test_a_rejection_after_earlier_chunks_were_written_rolls_them_all_back(shop, monkeypatch):
    monkeypatch.setattr(OrdersImporter, "chunk_size", 2)
    good = "".join(item(f"111-0000000-00000{n:02d}", "BOTTLE-750") for n in range(7))
    no_rate = item("111-0000000-0000099", "BOTTLE-750", day="2024-01-01")
    job = import_file(KIND, (HEADER + good + no_rate).encode(), shop=shop)
    assert job.status == ImportJob.Status.REJECTED
    assert [(e["row"], e["field"]) for e in job.errors] == [(9, "currency")]
    assert not Order.objects.exists() and not SalesDaily.objects.exists()


def test_items_of_one_order_spread_over_the_report_still_make_one_order(shop, monkeypatch):
    monkeypatch.setattr(OrdersImporter, "chunk_size", 2)
    content = (HEADER + item("111-0000000-0000001", "A", price="5.00") + item("111-0000000-0000002", "B")
               + item("111-0000000-0000003", "C") + item("111-0000000-0000004", "D")
               + item("111-0000000-0000001", "E", price="7.00")).encode()
    job = import_file(KIND, content, shop=shop)
    assert job.status == ImportJob.Status.SUCCEEDED and job.created_count == 4
    first = Order.objects.get(platform_order_id="111-0000000-0000001")
    assert sorted(first.lines.values_list("platform_sku", flat=True)) == ["A", "E"]
    assert first.total_amount == Decimal("12.00")


def test_an_order_kind_without_a_shop_is_rejected(shop):
    job = import_file(KIND, REPORT)
    assert job.status == ImportJob.Status.REJECTED and job.errors[0]["field"] == "shop"


def test_a_report_missing_a_required_column_is_rejected_on_the_header_row(shop):
    content = (DATA_DIR / REPORT).read_text().replace("item-price", "price-of-item").encode()
    job = import_file(KIND, content, shop=shop)
    assert job.errors == [{"row": 1, "field": "item-price", "message": "缺少必需的列“item-price”。"}]


def _shipped_merchant_report(days=3, per_day=4) -> bytes:
    """Merchant-fulfilled shipped orders of a mapped SKU (stock leaves) and of an unmapped one, over several days."""
    rows = [
        item(f"111-0000000-{day}{n:06d}", "BOTTLE-750" if n % 2 else "BRUSH-01", quantity=str(1 + n % 3),
             channel="Merchant", day=f"2025-07-0{day}")
        for day in range(1, days + 1) for n in range(per_day)
    ]
    return (HEADER + "".join(rows)).encode()


def _outcome(shop):
    """What an import leaves behind for the shop: rollups, stock movements and on-hand, books."""
    from apps.finance.models import FinancialRecord
    from apps.inventory.models import InventoryItem, StockMovement
    from apps.sales.models import SkuSalesDaily

    return (
        sorted(SalesDaily.objects.filter(shop=shop).values_list(
            "date", "buyer_country", "orders_count", "units", "gross_sales_base", "cogs_base")),
        sorted(SkuSalesDaily.objects.filter(shop=shop).values_list("date", "product__sku", "orders_count", "units")),
        sorted(StockMovement.objects.filter(movement_type="sale").values_list("reference", "quantity")),
        list(InventoryItem.objects.values_list("product__sku", "on_hand")),
        sorted(FinancialRecord.objects.filter(shop=shop).values_list("record_type", "amount_base")),
    )


@pytest.mark.parametrize("chunk_size", [1, 3])
@pytest.mark.parametrize("reads_ahead", [True, False])
def test_a_report_written_in_many_chunks_leaves_what_one_chunk_leaves(shop, monkeypatch, chunk_size, reads_ahead):
    from apps.inventory import services as stock
    from apps.inventory.models import InventoryItem, Product, Warehouse
    from apps.sales.services import sales_rollups_rebuild

    shop.default_warehouse = Warehouse.objects.create(code="DE-1", name="仓", kind="own", country="DE")
    shop.save()
    stock.stock_adjustment_create(product=Product.objects.get(sku="BOTTLE-750"), warehouse=shop.default_warehouse,
                                  quantity_change=100, reason="opening")
    job = import_file(KIND, _shipped_merchant_report(), shop=shop)
    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    one_chunk = _outcome(shop)
    assert len(one_chunk[0]) == 3 and len(one_chunk[2]) == 6 and InventoryItem.objects.get().on_hand == 100 - 3 * (2 + 1)

    # The same file again into a fresh start, written a few orders at a time (and with or without reading ahead).
    for model in ("sales.Order", "finance.FinancialRecord", "inventory.StockMovement", "platforms.Listing"):
        from django.apps import apps as django_apps

        django_apps.get_model(model).objects.all().delete()
    InventoryItem.objects.update(on_hand=100)
    sales_rollups_rebuild(start=dt.date(2025, 7, 1), end=dt.date(2025, 7, 3), shop_ids=[shop.pk])
    assert not SalesDaily.objects.exists()
    monkeypatch.setattr(OrdersImporter, "chunk_size", chunk_size)
    monkeypatch.setattr(OrdersImporter, "reads_ahead", reads_ahead)
    job = import_file(KIND, _shipped_merchant_report(), shop=shop)
    assert (job.status, job.created_count) == (ImportJob.Status.SUCCEEDED, 12)
    assert _outcome(shop) == one_chunk


def test_an_error_in_the_reading_thread_fails_the_job_and_writes_nothing(shop, monkeypatch):
    from apps.platforms.imports.amazon_orders import AmazonOrdersImporter

    monkeypatch.setattr(OrdersImporter, "chunk_size", 1)
    original = AmazonOrdersImporter.begin

    def begin(self, row, cells, key):
        if row == 8:  # after several chunks were written
            raise RuntimeError("reader broke")
        return original(self, row, cells, key)

    monkeypatch.setattr(AmazonOrdersImporter, "begin", begin)
    job = import_file(KIND, _shipped_merchant_report(), shop=shop)
    assert job.status == ImportJob.Status.FAILED and "RuntimeError" in job.errors[0]["message"]
    assert not Order.objects.exists() and not SalesDaily.objects.exists()


def test_an_amount_repeated_over_many_rows_is_read_the_same_on_each(shop, monkeypatch):
    from apps.platforms.imports import orders as import_orders

    monkeypatch.setattr(import_orders, "AMOUNTS_CACHED", 3)  # the cache also starts afresh mid-file
    prices = ["10.00", "12.5", "10.00", "7.255", "12.5", "0.004", "10.00", "1,234.50"]
    content = HEADER + "".join(item(f"111-0000000-000000{n}", "BOTTLE-750", price=p) for n, p in enumerate(prices))
    job = import_file(KIND, content.encode(), shop=shop)
    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    totals = dict(Order.objects.values_list("platform_order_id", "items_amount"))
    assert [totals[f"111-0000000-000000{n}"] for n in range(len(prices))] == [
        Decimal(v) for v in ("10.00", "12.50", "10.00", "7.26", "12.50", "0.00", "10.00", "1234.50")]


def test_a_bad_amount_is_reported_on_every_row_it_appears_on(shop):
    content = (HEADER + item("111-0000000-0000001", "A", price="10.00") + item("111-0000000-0000002", "B", price="abc")
               + item("111-0000000-0000003", "C", price="abc") + item("111-0000000-0000004", "D", price="-1.00"))
    job = import_file(KIND, content.encode(), shop=shop)
    assert job.status == ImportJob.Status.REJECTED
    assert [(e["row"], e["field"]) for e in job.errors] == [(3, "item-price"), (4, "item-price"), (5, "item-price")]


def test_a_line_of_several_units_has_its_unit_price_rounded_half_up(shop):
    content = HEADER + item("111-0000000-0000001", "BOTTLE-750", quantity="3", price="10.00") + item(
        "111-0000000-0000002", "BOTTLE-750", quantity="1", price="9.99")
    import_file(KIND, content.encode(), shop=shop)
    assert sorted(OrderLine.objects.values_list("quantity", "unit_price", "line_total")) == [
        (1, Decimal("9.99"), Decimal("9.99")), (3, Decimal("3.33"), Decimal("10.00"))]
