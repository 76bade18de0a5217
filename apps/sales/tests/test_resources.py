import datetime as dt
from decimal import Decimal

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.core.resources import import_errors
from apps.finance.tests.factories import CurrencyFactory, ExchangeRateFactory, base_currency
from apps.finance.models import FinancialRecord
from apps.inventory.models import InventoryItem
from apps.inventory.services import stock_level_set
from apps.inventory.tests.factories import ProductFactory, WarehouseFactory
from apps.platforms.models import Shop
from apps.platforms.tests.factories import ListingFactory, ShopFactory
from apps.sales.models import Customer, Order, OrderLine, SalesDaily
from apps.sales.resources import CustomerResource, OrderLineResource
from apps.sales.tests.factories import CustomerFactory, OrderFactory, OrderLineFactory
from apps.users.tests.factories import AdminUserFactory

pytestmark = pytest.mark.django_db

HEADER = "shop,platform_order_id,order_number,status,currency,items_amount,shipping_amount,total_amount,ordered_at," \
         "platform_line_id,platform_sku,title,quantity,unit_price,line_total\n"


def load(text: str) -> tablib.Dataset:
    return tablib.Dataset().load(text, format="csv")


def import_orders(text: str, **kwargs):
    return OrderLineResource().import_data(load(text), **kwargs)


def export_orders(queryset=None) -> str:
    return OrderLineResource().export(queryset).csv


@pytest.fixture
def shop():
    base_currency()
    usd = CurrencyFactory(code="USD")
    ExchangeRateFactory(currency=usd, rate_date=dt.date(2025, 1, 2), rate=Decimal("7.10000000"))
    ExchangeRateFactory(currency=usd, rate_date=dt.date(2025, 1, 5), rate=Decimal("7.20000000"))
    return ShopFactory(code="us-store", currency=usd)


ORDERS = HEADER + (
    "us-store,1001,#1001,paid,USD,30.00,5.00,35.00,2025-01-02 10:00:00,L1,AMZ-MUG,Mug,2,10.00,20.00\n"
    "us-store,1001,#1001,paid,USD,30.00,5.00,35.00,2025-01-02 10:00:00,L2,CUP-01,Cup,1,10.00,10.00\n"
    "us-store,1002,#1002,shipped,USD,8.00,0,8.00,2025-01-02 12:00:00,,UNKNOWN-SKU,Thing,1,8.00,\n"
)


def test_importing_orders_groups_lines_under_one_order_and_converts_at_the_days_rate(shop):
    mug = ProductFactory(sku="MUG-01")
    cup = ProductFactory(sku="CUP-01")
    ListingFactory(shop=shop, platform_sku="AMZ-MUG", product=mug)

    result = import_orders(ORDERS)

    assert import_errors(result) == []
    order = Order.objects.get(platform_order_id="1001")
    assert Order.objects.count() == 2 and order.lines.count() == 2
    assert order.exchange_rate == Decimal("7.1")
    assert (order.items_amount_base, order.shipping_amount_base, order.total_amount_base) == (
        Decimal("213.00"), Decimal("35.50"), Decimal("248.50")
    )
    lines = {line.platform_line_id: line for line in order.lines.all()}
    assert lines["L1"].product == mug and lines["L1"].listing.platform_sku == "AMZ-MUG"  # via the listing
    assert lines["L2"].product == cup and lines["L2"].listing is None  # via the master SKU
    assert lines["L1"].line_total_base == Decimal("142.00")
    unknown = OrderLine.objects.get(order__platform_order_id="1002")
    assert unknown.product is None and unknown.line_total == Decimal("8.00")  # blank total: price × quantity


def test_imported_orders_are_booked_and_counted_in_the_daily_rollups(shop):
    ListingFactory(shop=shop, platform_sku="AMZ-MUG", product=ProductFactory(sku="MUG-01", cost_price=Decimal("20")))

    import_orders(ORDERS)

    day = SalesDaily.objects.get(shop=shop, date=dt.date(2025, 1, 2))
    assert (day.orders_count, day.units, day.gross_sales_base) == (2, 4, Decimal("305.30"))
    assert day.cogs_base == Decimal("40.00")  # 2 mugs at 20.00 CNY; unmapped lines cost nothing
    sale = FinancialRecord.objects.get(order__platform_order_id="1001", record_type=FinancialRecord.RecordType.SALE)
    assert (sale.amount, sale.amount_base) == (Decimal("35.00"), Decimal("248.50"))


def test_an_imported_shipped_order_leaves_stock_once_however_often_it_is_imported(shop):
    mug = ProductFactory(sku="MUG-01")
    warehouse = WarehouseFactory()
    Shop.objects.filter(pk=shop.pk).update(default_warehouse=warehouse)
    stock_level_set(product=mug, warehouse=warehouse, on_hand=10)
    text = HEADER + "us-store,6001,,shipped,USD,20,0,20,2025-01-02 10:00:00,L1,MUG-01,Mug,3,10,\n"

    import_orders(text)
    import_orders(text)

    assert InventoryItem.objects.get(product=mug, warehouse=warehouse).on_hand == 7
    assert OrderLine.objects.get(platform_line_id="L1").stock_posted_at is not None


def test_an_order_takes_the_rate_of_its_business_day_not_its_utc_day(shop):
    # 23:30 UTC on the 4th is the 5th in Shanghai, which has its own rate.
    result = import_orders(HEADER + "us-store,2001,,paid,USD,10,0,10,2025-01-04T23:30:00+00:00,,S,,1,10,10\n")

    assert import_errors(result) == []
    order = Order.objects.get(platform_order_id="2001")
    assert order.exchange_rate == Decimal("7.2") and order.total_amount_base == Decimal("72.00")


def test_an_order_without_a_rate_for_its_day_is_rejected_naming_the_currency_and_the_date(shop):
    CurrencyFactory(code="EUR")
    text = HEADER + (
        "us-store,3001,,paid,USD,10,0,10,2025-01-02 10:00:00,,S,,1,10,10\n"
        "us-store,3002,,paid,EUR,10,0,10,2025-03-01 10:00:00,,S,,1,10,10\n"
    )

    result = import_orders(text)

    [error] = import_errors(result)
    assert (error["row"], error["column"]) == (2, "currency")
    assert "EUR" in error["message"] and "2025-03-01" in error["message"]
    assert Order.objects.count() == 0


def test_orders_round_trip_restores_changed_and_deleted_orders_and_lines(shop):
    ProductFactory(sku="CUP-01")
    import_orders(ORDERS)
    customer = CustomerFactory(shop=shop, platform_buyer_id="B-9")
    Order.objects.filter(platform_order_id="1002").update(customer=customer)
    first = export_orders()
    Order.objects.get(platform_order_id="1002").delete()
    OrderLine.objects.filter(platform_line_id="L1").update(quantity=9)
    OrderLine.objects.filter(platform_line_id="L2").delete()
    Order.objects.filter(platform_order_id="1001").update(status=Order.Status.CANCELLED, total_amount_base=0)

    result = import_orders(first)

    assert import_errors(result) == []
    assert export_orders() == first
    assert Order.objects.get(platform_order_id="1002").customer == customer


def test_importing_the_same_orders_twice_changes_nothing_the_second_time(shop):
    import_orders(ORDERS)
    stamps = list(Order.objects.order_by("pk").values_list("updated_at", flat=True))

    again = import_orders(ORDERS)

    assert again.totals["skip"] == 3 and again.totals["new"] == 0 and again.totals["update"] == 0
    assert list(Order.objects.order_by("pk").values_list("updated_at", flat=True)) == stamps


def test_a_bad_order_row_after_good_ones_writes_nothing_and_names_row_and_reason(shop):
    text = ORDERS + (
        "nowhere,1003,,paid,USD,x,0,1,2025-01-02 10:00:00,,S,,1,1,1\n"
        "us-store,1004,,paid,USD,abc,0,1,2025-13-45,,S,,-2,1,1\n"
    )

    result = import_orders(text)

    assert Order.objects.count() == 0 and OrderLine.objects.count() == 0
    errors = {(e["row"], e["column"]): e["message"] for e in import_errors(result)}
    assert errors[(4, "shop")] == "未知店铺：nowhere。"
    assert errors[(4, "items_amount")] == "「x」不是有效的数字。"  # a bad key does not hide the other cells
    assert errors[(5, "items_amount")] == "「abc」不是有效的数字。"
    assert "不是有效的时间" in errors[(5, "ordered_at")]
    assert "不能为负数" in errors[(5, "quantity")] or "大于等于 1" in errors[(5, "quantity")]
    assert {row for row, _ in errors} == {4, 5}


def test_rows_of_one_order_that_disagree_on_order_values_are_rejected(shop):
    text = HEADER + (
        "us-store,4001,,paid,USD,10,0,10,2025-01-02 10:00:00,L1,S1,,1,5,5\n"
        "us-store,4001,,shipped,USD,10,0,10,2025-01-02 10:00:00,L2,S2,,1,5,5\n"
    )

    result = import_orders(text)

    [error] = import_errors(result)
    assert (error["row"], error["column"]) == (2, "status") and "第 1 行" in error["message"]
    assert Order.objects.count() == 0


def test_a_refund_larger_than_the_order_total_is_rejected(shop):
    text = "shop,platform_order_id,currency,total_amount,refund_amount,ordered_at,platform_sku,quantity,unit_price\n" \
           "us-store,5001,USD,10,12,2025-01-02,S,1,10\n"

    result = import_orders(text)

    [error] = import_errors(result)
    assert error["column"] == "refund_amount" and "不能大于订单总额" in error["message"]


def test_exporting_selected_orders_gives_every_line_of_those_orders_only(shop):
    keep = OrderFactory(shop=shop, platform_order_id="K")
    OrderLineFactory(order=keep, platform_sku="K-1")
    OrderLineFactory(order=keep, platform_sku="K-2")
    OrderLineFactory(order=OrderFactory(shop=shop, platform_order_id="X"), platform_sku="X-1")

    rows = load(export_orders(Order.objects.filter(pk=keep.pk))).dict

    assert [(r["platform_order_id"], r["platform_sku"]) for r in rows] == [("K", "K-1"), ("K", "K-2")]


# Customers -------------------------------------------------------------------------------------

def test_customers_round_trip_by_buyer_id_or_email(shop):
    CustomerFactory(shop=shop, platform_buyer_id="B-1", email="a@example.com", name="Ann")
    CustomerFactory(shop=shop, platform_buyer_id="", email="b@example.com", name="Bob")
    resource = CustomerResource()
    first = resource.export().csv
    Customer.objects.filter(email="b@example.com").delete()
    Customer.objects.filter(platform_buyer_id="B-1").update(name="changed", country="DE")

    result = CustomerResource().import_data(load(first))

    assert import_errors(result) == []
    assert result.totals["new"] == 1 and result.totals["update"] == 1
    assert CustomerResource().export().csv == first
    again = CustomerResource().import_data(load(first))
    assert again.totals["skip"] == 2


def test_a_customer_row_needs_a_buyer_id_or_an_email(shop):
    text = "shop,platform_buyer_id,email,name\nus-store,B-1,,Ann\nus-store,,,Nobody\nus-store,,not-an-email,X\n"

    result = CustomerResource().import_data(load(text))

    errors = {(e["row"], e["column"]): e["message"] for e in import_errors(result)}
    assert errors[(2, "")] == "平台买家ID 与邮箱至少填写一个。"
    assert (3, "email") in errors
    assert Customer.objects.count() == 0


# Through the admin -----------------------------------------------------------------------------

def test_orders_import_through_the_admin_previews_then_writes_on_confirmation(client, shop):
    client.force_login(AdminUserFactory())
    upload = SimpleUploadedFile("orders.csv", ORDERS.encode(), content_type="text/csv")

    preview = client.post(reverse("admin:sales_order_import"), {"format": "0", "import_file": upload})

    assert preview.status_code == 200 and Order.objects.count() == 0
    confirm = preview.context["confirm_form"]
    done = client.post(reverse("admin:sales_order_process_import"), confirm.initial)
    assert done.status_code == 302
    assert Order.objects.count() == 2 and OrderLine.objects.count() == 3


def test_a_bad_orders_file_in_the_admin_shows_row_errors_and_offers_no_confirmation(client, shop):
    client.force_login(AdminUserFactory())
    bad = ORDERS + "nowhere,1003,,paid,USD,1,0,1,2025-01-02 10:00:00,,S,,1,1,1\n"
    upload = SimpleUploadedFile("orders.csv", bad.encode(), content_type="text/csv")

    page = client.post(reverse("admin:sales_order_import"), {"format": "0", "import_file": upload})

    assert page.status_code == 200 and "confirm_form" not in page.context
    assert "未知店铺：nowhere。" in page.content.decode()
    assert Order.objects.count() == 0


def _export_queries(resource) -> int:
    with CaptureQueriesContext(connection) as queries:
        resource.export()
    return len(queries)


def test_exporting_orders_and_customers_costs_the_same_for_one_or_many_rows(shop):
    import_orders(HEADER + "us-store,1,,paid,USD,1,0,1,2025-01-02,,S,,1,1,1\n")
    CustomerFactory(shop=shop)
    one = (_export_queries(OrderLineResource()), _export_queries(CustomerResource()))
    import_orders(ORDERS)
    CustomerFactory.create_batch(3, shop=ShopFactory(currency=shop.currency))

    assert (_export_queries(OrderLineResource()), _export_queries(CustomerResource())) == one
