import datetime as dt
import hashlib
from collections import Counter, defaultdict
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Count, Sum
from django.test import override_settings

from apps.core.money import ZERO, quantize_money
from apps.finance.models import ExchangeRate, Expense, FinancialRecord
from apps.inventory.models import (
    InventoryItem,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    ShipmentLine,
    StockMovement,
    Warehouse,
)
from apps.platforms.models import Listing, Platform, Shop
from apps.sales.models import Order, OrderLine, SalesDaily, Salesperson, SalesTarget, SkuSalesDaily
from apps.users.models import User

pytestmark = pytest.mark.django_db

ORDERS = 300
END = "2025-06-30"
BASE_AMOUNT_FIELDS = (
    "items_amount", "shipping_amount", "tax_amount", "discount_amount", "platform_fee", "refund_amount", "total_amount",
)


def run_seed(*extra: str, seed: int = 7) -> str:
    out = StringIO()
    call_command(
        "seed_demo", "--orders", str(ORDERS), "--seed", str(seed), "--end-date", END, "--batch-size", "200", *extra,
        stdout=out,
    )
    return out.getvalue()


def orders_fingerprint() -> str:
    rows = Order.objects.order_by("shop__code", "platform_order_id").values_list(
        "shop__code", "platform_order_id", "status", "total_amount", "total_amount_base", "ordered_at"
    )
    return hashlib.sha256(repr(list(rows)).encode()).hexdigest()


def seed_and_fingerprint(seed: int) -> str:
    """Seeds inside a savepoint that is rolled back, so every call starts from an empty database."""
    with transaction.atomic():
        run_seed("--force", seed=seed)
        fingerprint = orders_fingerprint()
        transaction.set_rollback(True)
    return fingerprint


@pytest.fixture(scope="module")
def seed_7_fingerprint(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        return seed_and_fingerprint(7)


def test_same_seed_and_end_date_give_identical_orders(seed_7_fingerprint):
    assert Order.objects.count() == 0
    assert seed_and_fingerprint(7) == seed_7_fingerprint


def test_another_seed_gives_other_orders(seed_7_fingerprint):
    assert seed_and_fingerprint(8) != seed_7_fingerprint


def test_refuses_to_run_with_debug_off_without_force():
    with override_settings(DEBUG=False), pytest.raises(CommandError, match="--force"):
        run_seed()

    assert not Order.objects.exists()
    assert not User.objects.exists()


class TestSeededDatabase:
    """One seeded database shared by the tests of this class, rolled back afterwards."""

    @pytest.fixture(scope="class", autouse=True)
    def seeded(self, django_db_setup, django_db_blocker):
        with django_db_blocker.unblock(), transaction.atomic():
            output = run_seed("--force")
            yield output
            transaction.set_rollback(True)

    def test_there_are_eight_platforms_and_twelve_shops_in_five_currencies(self):
        assert Platform.objects.count() >= 8
        assert Shop.objects.count() == 12
        assert Shop.objects.values("currency").distinct().count() >= 5
        assert Shop.objects.filter(default_warehouse__isnull=True).count() == 0
        assert Shop.objects.filter(salesperson__isnull=True).count() == 0

    def test_shop_credentials_are_a_demo_dict(self):
        assert all(shop.credentials.get("demo") is True for shop in Shop.objects.all())

    def test_catalogue_has_500_products_with_a_few_bundles(self):
        assert Product.objects.count() == 500
        bundles = Product.objects.filter(is_bundle=True).annotate(parts=Count("components"))
        assert 15 <= bundles.count() <= 40
        assert all(bundle.parts >= 2 for bundle in bundles)

    def test_listings_use_shop_skus_and_some_await_pairing(self):
        mapped = Listing.objects.filter(product__isnull=False).select_related("product")
        assert all(listing.platform_sku != listing.product.sku for listing in mapped)
        assert Listing.objects.filter(product__isnull=True).exists()

    def test_warehouses_of_all_three_kinds_exist(self):
        assert Warehouse.objects.count() >= 3
        assert set(Warehouse.objects.values_list("kind", flat=True)) == set(Warehouse.Kind.values)

    def test_the_requested_number_of_orders_with_about_two_and_a_half_lines_each(self):
        assert Order.objects.count() == ORDERS
        assert 2.2 * ORDERS <= OrderLine.objects.count() <= 2.8 * ORDERS

    def test_orders_span_eighteen_months_up_to_the_end_date(self):
        tz = ZoneInfo(settings.TIME_ZONE)
        days = [moment.astimezone(tz).date() for moment in Order.objects.values_list("ordered_at", flat=True)]
        assert max(days) <= dt.date(2025, 6, 30)
        assert min(days) < dt.date(2024, 3, 1)

    def test_buyer_countries_match_the_shop_marketplace(self):
        countries = defaultdict(set)
        for code, country in Order.objects.values_list("shop__code", "buyer_country"):
            countries[code].add(country)
        assert countries["amz-us"] == {"US"}
        assert countries["amz-jp"] <= {"JP"}
        assert countries["amz-de"] <= {"DE", "AT"}

    def test_platform_fulfilled_orders_ship_from_the_fba_warehouse(self):
        platform_orders = Order.objects.filter(fulfillment_channel=Order.FulfillmentChannel.PLATFORM)
        assert platform_orders.exists()
        assert set(platform_orders.values_list("warehouse__kind", flat=True)) == {Warehouse.Kind.FBA}

    def test_every_stock_row_equals_the_sum_of_its_movements(self):
        ledger = {
            (row["product_id"], row["warehouse_id"]): row["total"]
            for row in StockMovement.objects.values("product_id", "warehouse_id").annotate(total=Sum("quantity"))
        }
        items = {(item.product_id, item.warehouse_id): item.on_hand for item in InventoryItem.objects.all()}
        assert items
        assert items == ledger

    def test_balances_follow_the_ledger_in_time_order_and_never_go_negative(self):
        running = defaultdict(int)
        movements = StockMovement.objects.order_by("occurred_at", "id").values_list(
            "product_id", "warehouse_id", "quantity", "balance_after"
        )
        for product_id, warehouse_id, quantity, balance in movements:
            running[(product_id, warehouse_id)] += quantity
            assert balance == running[(product_id, warehouse_id)] >= 0

    def test_reserved_stock_is_covered_and_matches_open_shipments(self):
        open_lines = Counter()
        for product_id, warehouse_id, quantity in ShipmentLine.objects.filter(shipment__status="reserved").values_list(
            "product_id", "shipment__warehouse_id", "quantity"
        ):
            open_lines[(product_id, warehouse_id)] += quantity
        for item in InventoryItem.objects.all():
            assert 0 <= item.reserved <= item.on_hand
            assert item.reserved == open_lines[(item.product_id, item.warehouse_id)]

    def test_ledger_has_receipts_sales_transfers_adjustments_and_returns(self):
        kinds = set(StockMovement.objects.values_list("movement_type", flat=True))
        assert {"purchase_receipt", "sale", "transfer_in", "transfer_out", "adjustment"} <= kinds

    def test_received_purchase_quantities_are_in_the_ledger(self):
        receipts = Counter()
        movements = StockMovement.objects.filter(movement_type="purchase_receipt").values_list(
            "reference", "product_id", "quantity"
        )
        for reference, product_id, quantity in movements:
            receipts[(reference, product_id)] += quantity
        lines = PurchaseOrderLine.objects.select_related("purchase_order")
        assert {
            (line.purchase_order.number, line.product_id): line.quantity_received
            for line in lines if line.quantity_received
        } == dict(receipts)
        assert all(
            line.quantity_received == line.quantity_ordered
            for line in lines if line.purchase_order.status == PurchaseOrder.Status.RECEIVED
        )

    def test_order_base_amounts_are_converted_at_the_rate_of_the_business_day(self):
        tz = ZoneInfo(settings.TIME_ZONE)
        rates = {
            (currency, day): rate
            for currency, day, rate in ExchangeRate.objects.filter(base_currency=settings.BASE_CURRENCY).values_list(
                "currency", "rate_date", "rate"
            )
        }
        for order in Order.objects.all():
            day = order.ordered_at.astimezone(tz).date()
            expected = Decimal(1) if order.currency_id == settings.BASE_CURRENCY else rates[(order.currency_id, day)]
            assert order.exchange_rate == expected
            for field in BASE_AMOUNT_FIELDS:
                assert getattr(order, f"{field}_base") == quantize_money(getattr(order, field) * expected), field

    def test_line_base_totals_use_the_order_rate(self):
        for line in OrderLine.objects.select_related("order"):
            assert line.line_total_base == quantize_money(line.line_total * line.order.exchange_rate)
            assert (line.unit_cost_base is None) == (line.product_id is None)

    def test_refund_never_exceeds_the_total(self):
        assert not Order.objects.filter(refund_amount__gt=0, status__in=["paid", "delivered", "shipped"]).exists()
        for order in Order.objects.filter(status__in=["refunded", "partially_refunded"]):
            assert 0 < order.refund_amount <= order.total_amount

    def test_rollups_equal_the_aggregation_of_orders(self):
        tz = ZoneInfo(settings.TIME_ZONE)
        expected = defaultdict(lambda: [0, 0, ZERO, ZERO, ZERO, ZERO])
        for order in Order.objects.exclude(status__in=["pending", "cancelled"]).prefetch_related("lines"):
            row = expected[(order.ordered_at.astimezone(tz).date(), order.shop_id, order.buyer_country)]
            row[0] += 1
            row[2] += order.total_amount_base
            row[3] += order.refund_amount_base
            row[4] += order.platform_fee_base
            for line in order.lines.all():
                row[1] += line.quantity
                row[5] += line.quantity * (line.unit_cost_base or ZERO)
        actual = {
            (r.date, r.shop_id, r.buyer_country): [
                r.orders_count, r.units, r.gross_sales_base, r.refunds_base, r.platform_fees_base, r.cogs_base
            ]
            for r in SalesDaily.objects.all()
        }
        assert actual == dict(expected)

    def test_sku_rollup_units_equal_the_mapped_lines_of_counted_orders(self):
        lines = OrderLine.objects.filter(product__isnull=False).exclude(order__status__in=["pending", "cancelled"])
        rolled_up = SkuSalesDaily.objects.aggregate(units=Sum("units"))["units"]
        assert rolled_up == lines.aggregate(units=Sum("quantity"))["units"]

    def test_daily_sale_records_add_up_to_the_counted_orders_of_each_shop(self):
        records = dict(
            FinancialRecord.objects.filter(record_type="sale").values("shop__code").annotate(total=Sum("amount"))
            .values_list("shop__code", "total")
        )
        orders = dict(
            Order.objects.exclude(status__in=["pending", "cancelled"]).values("shop__code")
            .annotate(total=Sum("total_amount")).values_list("shop__code", "total")
        )
        assert records == orders

    def test_rejected_expenses_give_a_reason(self):
        assert Expense.objects.filter(status="approved").exists()
        assert all(expense.rejection_reason for expense in Expense.objects.filter(status="rejected"))

    def test_every_salesperson_has_a_target_for_every_month(self):
        assert Salesperson.objects.count() >= 5
        months = SalesTarget.objects.values("month").distinct().count()
        assert months >= 18
        assert SalesTarget.objects.count() == months * Salesperson.objects.count()

    def test_demo_users_hold_their_roles_and_shops(self):
        roles = {user.username: set(user.groups.values_list("name", flat=True)) for user in User.objects.all()}
        assert roles == {
            "admin": {"管理员"}, "ops": {"运营"}, "warehouse": {"仓库"}, "finance": {"财务"}, "readonly": {"只读"},
        }
        assert User.objects.get(username="admin").is_superuser
        assert all(user.is_staff for user in User.objects.all())
        assert User.objects.get(username="admin").shops.count() == 12
        assert User.objects.get(username="ops").shops.exists()

    def test_demo_passwords_are_printed_and_work(self, seeded):
        assert "demo-finance-2024!" in seeded
        assert User.objects.get(username="finance").check_password("demo-finance-2024!")

    def test_if_empty_leaves_a_populated_database_alone(self):
        orders_before = Order.objects.count()

        output = run_seed("--force", "--if-empty")

        assert "跳过" in output
        assert Order.objects.count() == orders_before

    def test_without_if_empty_a_populated_database_is_refused(self):
        with pytest.raises(CommandError, match="已有订单"):
            run_seed("--force")
