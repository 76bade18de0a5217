"""Importing a Shopify "Export orders" CSV: multi-line orders, statuses, all or nothing, idempotent."""
import datetime as dt
from decimal import Decimal

import pytest

from apps.finance.models import FinancialRecord
from apps.inventory import services as stock
from apps.inventory.models import InventoryItem, StockMovement
from apps.inventory.tests.factories import ProductFactory, WarehouseFactory
from apps.platforms.imports.shopify_orders import order_status
from apps.platforms.imports.testing import daily_rates, import_file
from apps.platforms.models import ImportJob, Listing
from apps.sales.models import Customer, Order, OrderLine, SalesDaily

from .factories import PlatformFactory, ShopFactory

pytestmark = pytest.mark.django_db
KIND = ImportJob.Kind.SHOPIFY_ORDERS
EXPORT = "shopify_orders_export.csv"


@pytest.fixture
def shop():
    daily_rates({"USD": "7.15"}, start=dt.date(2025, 6, 28), days=10)
    warehouse = WarehouseFactory(code="CN-SZ")
    shop = ShopFactory(platform=PlatformFactory(code="shopify"), code="hearth-kiln", default_warehouse=warehouse)
    for sku in ("MUG-WHT", "MUG-BLK", "COASTER-SET", "TOTE-NAT"):
        product = ProductFactory(sku=sku, cost_price=Decimal("12.50"))
        stock.stock_adjustment_create(product=product, warehouse=warehouse, quantity_change=10, reason="opening")
    return shop


def snapshot():
    return (Order.objects.count(), OrderLine.objects.count(), Customer.objects.count(), Listing.objects.count(),
            FinancialRecord.objects.count(), StockMovement.objects.count(), SalesDaily.objects.count())


def test_a_real_export_becomes_one_order_per_name_with_its_lines(shop):
    job = import_file(KIND, EXPORT, shop=shop)
    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    assert (job.total_rows, job.created_count, job.updated_count, job.unchanged_count) == (9, 5, 0, 0)
    first = Order.objects.get(order_number="#1001")
    assert first.platform_order_id == "5901234567890"
    assert sorted(first.lines.values_list("platform_sku", "quantity", "unit_price")) == [
        ("COASTER-SET", 1, Decimal("18.00")), ("MUG-WHT", 2, Decimal("18.00"))]
    assert (first.total_amount, first.tax_amount, first.shipping_amount) == (
        Decimal("62.38"), Decimal("3.38"), Decimal("5.00"))
    assert first.total_amount_base == Decimal("446.02")  # 62.38 × 7.15
    assert first.buyer_country == "US"


def test_statuses_are_mapped_and_the_raw_status_kept(shop):
    import_file(KIND, EXPORT, shop=shop)
    statuses = dict(Order.objects.values_list("order_number", "status"))
    assert statuses == {"#1001": "shipped", "#1002": "pending", "#1003": "partially_refunded",
                        "#1004": "cancelled", "#1005": "paid"}
    assert Order.objects.get(order_number="#1003").platform_status == "partially_refunded / fulfilled"


def test_times_are_stored_in_utc_and_countries_in_upper_case(shop):
    import_file(KIND, EXPORT, shop=shop)
    third = Order.objects.get(order_number="#1003")
    assert third.ordered_at == dt.datetime(2025, 7, 2, 18, 5, tzinfo=dt.UTC)  # 14:05 -0400
    assert third.refund_amount == Decimal("18.00")
    assert third.discount_amount == Decimal("5.60") and third.items_amount == Decimal("55.98")
    assert Order.objects.get(order_number="#1005").buyer_country == "DE"


def test_buyers_are_deduplicated_by_email_and_pos_orders_have_none(shop):
    import_file(KIND, EXPORT, shop=shop)
    assert sorted(Customer.objects.values_list("email", flat=True)) == [
        "emma.wilson@example.com", "liam.chen@example.com", "noah.garcia@example.com"]
    assert Order.objects.filter(customer__email="emma.wilson@example.com").count() == 2
    assert Order.objects.get(order_number="#1005").customer is None


def test_unknown_skus_wait_unmapped_and_a_line_without_sku_goes_by_its_name(shop):
    import_file(KIND, EXPORT, shop=shop)
    unmapped = set(Listing.objects.filter(shop=shop, product__isnull=True).values_list("platform_sku", flat=True))
    assert unmapped == {"NAPKIN-SAGE", "Gift wrapping"}
    napkins = OrderLine.objects.get(platform_sku="NAPKIN-SAGE")
    assert (napkins.quantity, napkins.line_total, napkins.unit_price) == (2, Decimal("17.98"), Decimal("8.99"))


def test_shipped_lines_leave_stock_once_and_rollups_cover_the_days(shop):
    import_file(KIND, EXPORT, shop=shop)
    on_hand = dict(InventoryItem.objects.values_list("product__sku", "on_hand"))
    # #1001 (2 white, 1 coaster) and #1003 (1 black, 1 white) were fulfilled.
    assert on_hand == {"MUG-WHT": 7, "MUG-BLK": 9, "COASTER-SET": 9, "TOTE-NAT": 10}
    days = set(SalesDaily.objects.values_list("date", flat=True))
    assert days == {dt.date(2025, 7, 1), dt.date(2025, 7, 3)}  # counted orders' business days (Shanghai)


def test_the_same_file_twice_changes_nothing(shop):
    import_file(KIND, EXPORT, shop=shop)
    before = snapshot()
    job = import_file(KIND, EXPORT, shop=shop)
    assert job.status == ImportJob.Status.SUCCEEDED
    assert (job.created_count, job.updated_count, job.unchanged_count) == (0, 0, 5)
    assert snapshot() == before


def test_a_dry_run_reports_the_counts_and_writes_nothing(shop):
    before = snapshot()
    job = import_file(KIND, EXPORT, shop=shop, dry_run=True)
    assert job.status == ImportJob.Status.SUCCEEDED
    assert (job.created_count, job.updated_count, job.unchanged_count) == (5, 0, 0)
    assert snapshot() == before


def test_a_dry_run_after_an_import_reports_everything_unchanged(shop):
    import_file(KIND, EXPORT, shop=shop)
    job = import_file(KIND, EXPORT, shop=shop, dry_run=True)
    assert (job.created_count, job.updated_count, job.unchanged_count) == (0, 0, 5)


def test_a_file_with_bad_rows_is_rejected_whole_with_line_numbers(shop):
    before = snapshot()
    job = import_file(KIND, "shopify_orders_bad_rows.csv", shop=shop)
    assert job.status == ImportJob.Status.REJECTED
    assert [(e["row"], e["field"]) for e in job.errors] == [
        (3, "Lineitem quantity"), (5, "Created at"), (8, "Lineitem price"), (10, "Currency")]
    assert all(e["message"] for e in job.errors)
    assert job.rejected_count == 4 and job.created_count == 0
    assert snapshot() == before


@pytest.mark.parametrize(("financial", "fulfillment", "cancelled", "expected"), [
    ("pending", "", False, "pending"),
    ("authorized", "", False, "paid"),
    ("paid", "partial", False, "paid"),
    ("paid", "fulfilled", False, "shipped"),
    ("partially_refunded", "fulfilled", False, "partially_refunded"),
    ("refunded", "fulfilled", False, "refunded"),
    ("voided", "", False, "cancelled"),
    ("paid", "", True, "cancelled"),
])
def test_shopify_statuses_map_to_ours(financial, fulfillment, cancelled, expected):
    assert order_status(financial, fulfillment, cancelled) == expected


def test_an_export_into_a_shop_without_the_days_rate_is_rejected_on_the_orders_first_row(shop):
    content = (b"Name,Financial Status,Currency,Total,Created at,Lineitem quantity,Lineitem price,Lineitem sku\n"
               b"#2001,paid,USD,10.00,2025-07-01 10:00:00 +0000,1,10.00,MUG-WHT\n"
               b"#2002,paid,USD,10.00,2024-01-01 10:00:00 +0000,1,10.00,MUG-WHT\n")
    job = import_file(KIND, content, shop=shop)
    assert job.status == ImportJob.Status.REJECTED
    assert [(e["row"], e["field"]) for e in job.errors] == [(3, "Currency")]
    assert "汇率" in job.errors[0]["message"]
    assert not Order.objects.exists()
