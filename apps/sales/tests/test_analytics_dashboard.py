"""Business overview endpoints against figures recomputed from the order specs."""
import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest

from apps.core.money import ZERO, quantize_money
from apps.core.testing import api_client_for
from apps.inventory import services as stock
from apps.inventory.models import InventoryItem
from apps.inventory.tests.factories import WarehouseFactory
from apps.sales.models import Order
from apps.users.tests.factories import UserFactory

from .test_analytics_dataset import (  # noqa: F401  (fixtures)
    END,
    PREVIOUS_END,
    PREVIOUS_START,
    SPECS,
    START,
    counted,
    figures,
    pct_change,
    shanghai,
    world,
)

pytestmark = pytest.mark.django_db
MARCH = {"start": START.isoformat(), "end": END.isoformat()}


@pytest.fixture
def admin():
    return api_client_for(UserFactory(username="boss", roles=["管理员"]))


@pytest.fixture
def operator(world):
    user = UserFactory(username="ops", roles=["运营"])
    user.shops.add(world.shops["us"])
    return api_client_for(user)


def get(client, path, **params):
    response = client.get(f"/api/v1/{path}", params)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["code"] == 200
    return body["data"]


def test_kpis_equal_the_orders_summed_one_by_one_with_the_previous_period(world, admin):
    data = get(admin, "dashboard/kpis/", **MARCH)
    assert (data["previous_start"], data["previous_end"]) == (PREVIOUS_START.isoformat(), PREVIOUS_END.isoformat())
    current, previous = figures(counted()), figures(counted(start=PREVIOUS_START, end=PREVIOUS_END))
    assert data["current"] == current
    assert data["previous"] == previous
    assert previous["orders"] == 3  # U8, U9 (29 Jan in Shanghai) and D3; U2 belongs to March
    for name in ("gross_sales", "net_sales", "orders", "units", "cogs", "gross_profit"):
        assert data["change"][name] == pct_change(current[name], previous[name])
    # a margin moves by percentage points
    assert data["change"]["margin"] == f"{Decimal(current['margin']) - Decimal(previous['margin']):.2f}"


def test_kpis_of_an_operator_cover_only_their_shop(world, operator):
    data = get(operator, "dashboard/kpis/", **MARCH)
    assert data["current"] == figures(counted(shops={"us"}))


def test_another_shops_id_answers_404_in_the_envelope(world, operator):
    response = operator.get("/api/v1/dashboard/kpis/", {"shop": world.shops["de"].pk})
    assert response.status_code == 404 and response.json()["code"] == 404
    assert "shop" in response.json()["error"]


def test_shop_and_platform_narrow_the_figures(world, admin):
    by_shop = get(admin, "dashboard/kpis/", shop=world.shops["de"].pk, **MARCH)
    assert by_shop["current"] == figures(counted(shops={"de"}))
    assert get(admin, "dashboard/kpis/", platform="shopify", **MARCH)["current"] == figures(
        counted(platform="shopify"))


def test_an_empty_period_gives_zeros_and_null_ratios(world, admin):
    data = get(admin, "dashboard/kpis/", start="2024-06-01", end="2024-06-30")
    assert data["current"] == figures([])
    assert data["current"]["gross_sales"] == "0.00" and data["current"]["orders"] == 0
    assert set(data["change"].values()) == {None}


def test_kpis_count_low_stock_rows_and_reserved_shipments_in_scope(world, operator):
    warehouse = WarehouseFactory()
    mug, lamp = world.products["MUG"], world.products["LAMP"]
    for product in (mug, lamp):
        stock.stock_adjustment_create(product=product, warehouse=warehouse, quantity_change=10, reason="opening")
    InventoryItem.objects.filter(product=mug).update(reorder_point=50)  # 10 available < 50
    InventoryItem.objects.filter(product=lamp).update(reorder_point=5)
    lines = [stock.ShipmentLineInput(product=mug, quantity=1)]
    us_order, de_order = Order.objects.get(platform_order_id="U1"), Order.objects.get(platform_order_id="D1")
    stock.shipment_create(number="S-US", warehouse=warehouse, lines=lines, order=us_order)
    stock.shipment_create(number="S-DE", warehouse=warehouse, lines=lines, order=de_order)
    stock.shipment_create(number="S-MANUAL", warehouse=warehouse, lines=lines)
    shipped = stock.shipment_create(number="S-DONE", warehouse=warehouse, lines=lines, order=us_order)
    stock.shipment_ship(shipment=shipped)

    data = get(operator, "dashboard/kpis/", **MARCH)
    assert (data["low_stock_count"], data["pending_shipments"]) == (1, 2)  # S-US and the manual one
    narrowed = get(operator, "dashboard/kpis/", shop=world.shops["us"].pk, **MARCH)
    assert narrowed["pending_shipments"] == 1


def _trend_expected(interval):
    def bucket(day):
        if interval == "week":
            return day - dt.timedelta(days=day.weekday())
        return day.replace(day=1) if interval == "month" else day

    cells = defaultdict(lambda: [ZERO, 0])
    for spec in counted():
        cell = cells[(bucket(spec.day), spec.platform)]
        cell[0] += spec.base(spec.total)
        cell[1] += 1
    return cells, bucket


@pytest.mark.parametrize("interval, buckets", [("day", 31), ("week", 6), ("month", 1)])
def test_the_trend_has_every_bucket_in_total_and_per_platform(world, admin, interval, buckets):
    data = get(admin, "dashboard/sales-trend/", interval=interval, **MARCH)
    cells, bucket = _trend_expected(interval)
    assert len(data["series"]) == buckets
    assert data["series"][0]["start"] == START.isoformat() and data["series"][-1]["end"] == END.isoformat()
    assert [p["code"] for p in data["platforms"]] == ["amazon", "shopify"]
    for point in data["series"]:
        day = dt.date.fromisoformat(point["period"])
        assert bucket(day) == day
        for platform in ("amazon", "shopify"):
            gross, orders = cells.get((day, platform), (ZERO, 0))
            assert point["by_platform"][platform] == {"gross_sales": f"{gross:.2f}", "orders": orders}
        assert point["orders"] == sum(cells.get((day, p), (ZERO, 0))[1] for p in ("amazon", "shopify"))
    assert sum(p["orders"] for p in data["series"]) == len(counted())


def test_the_first_and_last_business_days_hold_the_boundary_orders(world, admin):
    series = get(admin, "dashboard/sales-trend/", **MARCH)["series"]
    u2 = next(s for s in SPECS if s.pid == "U2")
    u7 = next(s for s in SPECS if s.pid == "U7")
    assert (series[0]["orders"], series[0]["gross_sales"]) == (1, f"{u2.base(u2.total):.2f}")
    assert (series[-1]["orders"], series[-1]["gross_sales"]) == (1, f"{u7.base(u7.total):.2f}")


def test_platform_distribution_gives_each_platforms_share(world, admin):
    data = get(admin, "dashboard/platform-distribution/", **MARCH)
    everything = figures(counted())
    by_code = {row["platform"]: row for row in data["items"]}
    assert data["total_gross_sales"] == everything["gross_sales"] and data["total_orders"] == everything["orders"]
    for code in ("shopify", "amazon"):
        expected = figures(counted(platform=code))
        row = by_code[code]
        assert (row["gross_sales"], row["net_sales"], row["orders"]) == (
            expected["gross_sales"], expected["net_sales"], expected["orders"])
        share = quantize_money(Decimal(expected["gross_sales"]) / Decimal(everything["gross_sales"]) * 100)
        assert row["gross_sales_share"] == f"{share:.2f}"
    assert [row["platform"] for row in data["items"]] == sorted(
        by_code, key=lambda code: -Decimal(by_code[code]["gross_sales"]))
    assert by_code["amazon"]["orders_share"] == f"{2 / 7 * 100:.2f}"


def test_recent_orders_are_the_periods_newest_of_any_status(world, admin, operator):
    rows = get(admin, "dashboard/recent-orders/", limit=4, **MARCH)
    assert [row["order_number"] for row in rows] == ["#U7", "#D2", "#D1", "#U6"]
    assert rows[3]["status"] == "pending" and rows[0]["platform"]["code"] == "shopify"
    assert rows[0]["total_amount_base"] == f"{next(s for s in SPECS if s.pid == 'U7').base(40):.2f}"
    mine = get(operator, "dashboard/recent-orders/", **MARCH)
    assert {row["shop"]["id"] for row in mine} == {world.shops["us"].pk}
    assert len(mine) == 6  # U1 U2 U4 U5 U6 U7 (U3 is April in Shanghai)
