"""Our own templates: products (CSV and XLSX), listings and stock levels."""
from decimal import Decimal

import pytest
from django.db.models import Sum

from apps.finance.tests.factories import CurrencyFactory, base_currency
from apps.inventory import services as stock
from apps.inventory.models import Category, InventoryItem, Product, StockAdjustment, StockMovement
from apps.inventory.tests.factories import ProductFactory, SupplierFactory, WarehouseFactory
from apps.platforms.imports.testing import import_file
from apps.platforms.models import ImportJob, Listing
from apps.sales.tests.factories import OrderLineFactory
from apps.users.tests.factories import UserFactory

from .factories import ListingFactory, PlatformFactory, ShopFactory

pytestmark = pytest.mark.django_db
Kind = ImportJob.Kind


@pytest.fixture(autouse=True)
def currencies():
    base_currency()
    for code in ("USD", "EUR", "GBP"):
        CurrencyFactory(code=code)


# Products -----------------------------------------------------------------------------------------

def test_the_products_template_creates_master_skus_with_their_category_path():
    job = import_file(Kind.PRODUCTS, "products.csv")
    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    assert (job.created_count, job.updated_count, job.unchanged_count) == (4, 0, 0)
    mug = Product.objects.get(sku="MUG-WHT")
    assert (mug.name, mug.cost_price, mug.cost_currency_id, mug.weight_kg, mug.reorder_point) == (
        "陶瓷马克杯 白色", Decimal("12.50"), "CNY", Decimal("0.350"), 40)
    assert mug.barcode == "06901234567892"  # the apostrophe kept the leading zero as text
    assert str(mug.category) == "家居 / 厨房"
    assert Category.objects.filter(name="家居").count() == 1


def test_the_xlsx_variant_with_chinese_headers_imports_the_same_products():
    job = import_file(Kind.PRODUCTS, "products.xlsx")
    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    assert job.created_count == 4
    tote = Product.objects.get(sku="TOTE-NAT")
    assert (tote.cost_price, tote.cost_currency_id, tote.weight_kg) == (Decimal("2.10"), "USD", Decimal("0.200"))
    assert Product.objects.get(sku="MUG-BLK").barcode == "6901234567893"


def test_reimporting_products_updates_only_what_changed():
    import_file(Kind.PRODUCTS, "products.csv")
    job = import_file(Kind.PRODUCTS, b"sku,cost_price\nMUG-WHT,13.80\nMUG-BLK,12.50\n")
    assert (job.created_count, job.updated_count, job.unchanged_count) == (0, 1, 1)
    mug = Product.objects.get(sku="MUG-WHT")
    assert mug.cost_price == Decimal("13.80") and mug.name == "陶瓷马克杯 白色"  # absent columns left alone
    again = import_file(Kind.PRODUCTS, "products.csv")
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 1, 3)


def test_a_product_file_with_bad_rows_writes_nothing():
    SupplierFactory(code="SUP-1")
    content = ("sku,name,cost_price,cost_currency,default_supplier\n"
               "NEW-1,新品,abc,CNY,SUP-1\n"
               "NEW-2,新品2,1.00,ZZZ,\n"
               "NEW-3,,1.00,CNY,\n"
               "NEW-1,重复,1.00,CNY,\n"
               "NEW-4,新品4,1.00,CNY,SUP-404\n"
               "NEW-5,好的,1.00,CNY,SUP-1\n").encode()
    job = import_file(Kind.PRODUCTS, content)
    assert job.status == ImportJob.Status.REJECTED
    assert [(e["row"], e["field"]) for e in job.errors] == [
        (2, "cost_price"), (3, "cost_currency"), (4, "name"), (5, "sku"), (6, "default_supplier")]
    assert not Product.objects.exists()


def test_a_products_dry_run_counts_and_writes_nothing():
    ProductFactory(sku="MUG-WHT", name="旧名称")
    job = import_file(Kind.PRODUCTS, "products.csv", dry_run=True)
    assert (job.status, job.created_count, job.updated_count) == (ImportJob.Status.SUCCEEDED, 3, 1)
    assert list(Product.objects.values_list("sku", "name")) == [("MUG-WHT", "旧名称")]
    assert not Category.objects.filter(name="户外").exists()


# Listings -----------------------------------------------------------------------------------------

@pytest.fixture
def amazon_shop():
    return ShopFactory(platform=PlatformFactory(code="amazon"), code="amazon-eu",
                       currency=CurrencyFactory(code="EUR"))


def test_listings_are_paired_by_sku_or_left_for_the_pairing_queue(amazon_shop):
    ProductFactory(sku="BOTTLE-750")
    job = import_file(Kind.LISTINGS, "listings.csv")
    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    assert job.created_count == 3
    listings = {item.platform_sku: item for item in Listing.objects.filter(shop=amazon_shop)}
    assert listings["BOTTLE-750-UK"].product.sku == "BOTTLE-750"
    assert (listings["BOTTLE-750-UK"].price, listings["BOTTLE-750-UK"].currency_id) == (Decimal("17.99"), "GBP")
    assert listings["BRUSH-01"].product is None


def test_pairing_a_listing_by_import_links_its_collected_order_lines(amazon_shop):
    product = ProductFactory(sku="BRUSH-MASTER")
    listing = ListingFactory(shop=amazon_shop, platform_sku="BRUSH-01", product=None, price=Decimal("6.99"),
                             title="Bottle Cleaning Brush")
    line = OrderLineFactory(order__shop=amazon_shop, listing=listing, product=None, platform_sku="BRUSH-01")
    job = import_file(Kind.LISTINGS, b"shop,platform_sku,sku\namazon-eu,BRUSH-01,BRUSH-MASTER\n")
    assert (job.created_count, job.updated_count) == (0, 1)
    line.refresh_from_db()
    assert line.product_id == product.pk


def test_a_listing_of_a_shop_outside_the_users_scope_is_an_unknown_shop(amazon_shop):
    other = ShopFactory(code="someone-else")
    user = UserFactory(username="ops-imports", roles=["运营"])
    user.shops.add(amazon_shop)
    job = import_file(Kind.LISTINGS, b"shop,platform_sku\namazon-eu,A-1\nsomeone-else,B-1\n", user=user)
    assert job.status == ImportJob.Status.REJECTED
    assert job.errors == [{"row": 3, "field": "shop", "message": "店铺“someone-else”不存在。"}]
    assert not Listing.objects.filter(shop=other).exists() and not Listing.objects.exists()


# Stock levels -------------------------------------------------------------------------------------

@pytest.fixture
def stock_setup():
    WarehouseFactory(code="CN-SZ")
    WarehouseFactory(code="US-NJ", kind="overseas", country="US")
    for sku in ("MUG-WHT", "MUG-BLK"):
        ProductFactory(sku=sku)


def ledger_matches_on_hand() -> bool:
    ledger = {
        (product, warehouse): total
        for product, warehouse, total in StockMovement.objects.values("product_id", "warehouse_id")
        .annotate(total=Sum("quantity")).values_list("product_id", "warehouse_id", "total").order_by()
    }
    on_hand = {(i.product_id, i.warehouse_id): i.on_hand for i in InventoryItem.objects.all()}
    return set(ledger) <= set(on_hand) and all(ledger.get(key, 0) == value for key, value in on_hand.items())


def test_stock_levels_are_set_through_the_ledger(stock_setup):
    job = import_file(Kind.STOCK, "stock.csv")
    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    assert job.created_count == 3
    levels = {(i.product.sku, i.warehouse.code): (i.on_hand, i.reorder_point)
              for i in InventoryItem.objects.select_related("product", "warehouse")}
    assert levels == {("MUG-WHT", "CN-SZ"): (120, 40), ("MUG-BLK", "CN-SZ"): (80, 0), ("MUG-WHT", "US-NJ"): (35, 10)}
    assert set(StockAdjustment.objects.values_list("reason", flat=True)) == {"import"}
    assert ledger_matches_on_hand()


def test_a_recount_adjusts_the_difference_and_the_same_file_changes_nothing(stock_setup):
    import_file(Kind.STOCK, "stock.csv")
    again = import_file(Kind.STOCK, "stock.csv")
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 3)
    recount = import_file(Kind.STOCK, b"sku,warehouse,on_hand\nMUG-WHT,CN-SZ,117\n")
    assert recount.updated_count == 1
    assert list(StockMovement.objects.filter(product__sku="MUG-WHT", warehouse__code="CN-SZ")
                .order_by("id").values_list("quantity", flat=True)) == [120, -3]
    assert ledger_matches_on_hand()


def test_a_stock_file_with_unknown_skus_or_warehouses_writes_nothing(stock_setup):
    job = import_file(Kind.STOCK, b"sku,warehouse,on_hand\nMUG-WHT,CN-SZ,5\nNOPE,CN-SZ,1\nMUG-BLK,XX,1\n"
                                  b"MUG-BLK,CN-SZ,-4\n")
    assert job.status == ImportJob.Status.REJECTED
    assert [(e["row"], e["field"]) for e in job.errors] == [(3, "sku"), (4, "warehouse"), (5, "on_hand")]
    assert not StockMovement.objects.exists()


def test_stock_below_what_is_reserved_is_a_row_error(stock_setup):
    product = Product.objects.get(sku="MUG-WHT")
    warehouse = WarehouseFactory(code="DE-FRA")
    stock.stock_adjustment_create(product=product, warehouse=warehouse, quantity_change=10, reason="opening")
    InventoryItem.objects.filter(product=product, warehouse=warehouse).update(reserved=6)
    job = import_file(Kind.STOCK, b"sku,warehouse,on_hand\nMUG-WHT,DE-FRA,4\n")
    assert job.status == ImportJob.Status.REJECTED and job.errors[0]["row"] == 2
    assert InventoryItem.objects.get(product=product, warehouse=warehouse).on_hand == 10


def test_a_file_with_only_a_header_is_rejected():
    job = import_file(Kind.STOCK, b"sku,warehouse,on_hand\n")
    assert job.status == ImportJob.Status.REJECTED and "没有数据行" in job.errors[0]["message"]
