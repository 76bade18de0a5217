"""inventory/analysis/ and inventory/replenishment/ on the shared sales dataset, with "today" fixed at
31 March 2025 (so the trailing 30 days are 2–31 March) and stock written through the ledger services."""
import datetime as dt
from decimal import Decimal

import pytest

from apps.core.money import quantize_money
from apps.core.testing import api_client_for, count_queries
from apps.finance.models import Currency
from apps.inventory import services
from apps.inventory.models import InventoryItem, Product
from apps.inventory.tests.factories import ProductFactory, SupplierFactory, WarehouseFactory
from apps.platforms.models import Shop
from apps.sales.tests.test_analytics_access import _more_orders
from apps.sales.tests.test_analytics_dataset import build_world, counted, figures, shanghai, store, world  # noqa: F401
from apps.users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
TODAY = dt.date(2025, 3, 31)
D = Decimal


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr("apps.inventory.api.analysis.business_today", lambda: TODAY)


@pytest.fixture
def stock(world):
    """W-CN serves the us shop, W-DE the de shop; the other shop has no default warehouse."""
    cn, de = WarehouseFactory(code="W-CN"), WarehouseFactory(code="W-DE", kind="fba", country="DE")
    Shop.objects.filter(pk=world.shops["us"].pk).update(default_warehouse=cn)
    Shop.objects.filter(pk=world.shops["de"].pk).update(default_warehouse=de)
    p = world.products
    Product.objects.filter(pk=p["MUG"].pk).update(lead_time_days=10, safety_days=5, reorder_point=4)
    Product.objects.filter(pk=p["CASE"].pk).update(lead_time_days=20, safety_days=10)
    vase = ProductFactory(sku="VASE", name="商品 VASE", cost_price=D("10.00"),
                          cost_currency=Currency.objects.get(code="EUR"))
    for product, warehouse, quantity in ((p["MUG"], cn, 40), (p["LAMP"], cn, 3), (p["CASE"], de, 12), (vase, cn, 7)):
        services.stock_adjustment_create(product=product, warehouse=warehouse, quantity_change=quantity,
                                         reason="opening")
    services.shipment_create(number="S-1", warehouse=cn,
                             lines=[services.ShipmentLineInput(product=p["MUG"], quantity=5)])
    InventoryItem.objects.filter(product=p["MUG"], warehouse=cn).update(reorder_point=34)
    InventoryItem.objects.filter(product=p["LAMP"], warehouse=cn).update(reorder_point=30)

    supplier = SupplierFactory()
    def po(number, warehouse, product, quantity, *, approve=True, receive=0):
        order = services.purchase_order_create(
            number=number, supplier=supplier, warehouse=warehouse, currency_id="CNY", order_date=TODAY,
            lines=[{"product": product, "quantity_ordered": quantity, "unit_cost": D("1")}])
        if approve:
            services.purchase_order_approve(purchase_order=order)
        if receive:
            line = order.lines.get()
            services.purchase_order_receive(purchase_order=order, lines=[services.ReceiptLine(line.pk, receive)])
    po("PO-1", cn, p["LAMP"], 20, receive=5)  # LAMP on hand 3 + 5; 15 still inbound
    po("PO-2", cn, p["MUG"], 100, approve=False)  # a draft is not inbound
    po("PO-3", de, p["CASE"], 10)
    return {"cn": cn, "de": de, "vase": vase}


@pytest.fixture
def admin():
    return api_client_for(UserFactory(username="boss", roles=["管理员"]))


def get(client, path, **params):
    response = client.get(f"/api/v1/inventory/{path}/", params)
    assert response.status_code == 200, response.content
    return response.json()["data"]


def trailing(shops=None):
    return counted(start=TODAY - dt.timedelta(days=29), end=TODAY, shops=shops)


def units(specs, sku):
    return sum(qty for s in specs for line_sku, qty, _ in s.lines if line_sku == sku)


STOCK_VALUE = {"W-CN": D(40 * 20) + D(8 * 5) * D("7.30") + D(7 * 10) * D("7.90"), "W-DE": D(12 * 3) * D("7.90")}


def test_stock_value_by_warehouse_is_on_hand_at_cost_at_todays_rate(stock, admin):
    data = get(admin, "analysis")
    assert {row["code"]: row["stock_value"] for row in data["by_warehouse"]} == {
        code: f"{value:.2f}" for code, value in STOCK_VALUE.items()}
    assert data["stock_value"] == f"{sum(STOCK_VALUE.values()):.2f}"
    cn = next(row for row in data["by_warehouse"] if row["code"] == "W-CN")
    assert (cn["on_hand"], cn["reserved"], cn["available"], cn["skus"]) == (40 + 8 + 7, 5, 55 - 5, 3)


def test_turnover_is_30_day_cogs_over_stock_value(stock, admin):
    turnover = get(admin, "analysis")["turnover"]
    cogs, value = D(figures(trailing())["cogs"]), sum(STOCK_VALUE.values())
    assert trailing()[0].pid != "U2"  # 1 March is outside the 30 days ending 31 March
    assert (turnover["cogs_30d"], turnover["stock_value"]) == (f"{cogs:.2f}", f"{value:.2f}")
    assert turnover["turnover_30d"] == f"{quantize_money(cogs / value):.2f}"
    assert turnover["days_of_inventory"] == f"{quantize_money(value * 30 / cogs):.2f}"


def test_days_of_cover_divide_available_stock_by_30_day_demand(stock, admin):
    cover = {row["sku"]: row for row in get(admin, "analysis")["days_of_cover"]["items"]}
    mug_units, case_units = units(trailing(), "MUG"), units(trailing(), "CASE")
    assert (cover["MUG"]["units_30d"], cover["MUG"]["available"]) == (mug_units, 35)
    assert cover["MUG"]["days_of_cover"] == f"{quantize_money(D(35) * 30 / mug_units):.2f}"
    assert cover["CASE"]["days_of_cover"] == f"{quantize_money(D(12) * 30 / case_units):.2f}"
    assert cover["LAMP"]["days_of_cover"] is None and cover["LAMP"]["units_30d"] == 0
    assert list(cover)[:2] == ["MUG", "CASE"]  # fewest days first, no demand last


def test_slow_movers_have_stock_but_no_sales_in_n_days(stock, admin):
    slow = get(admin, "analysis", slow_days=30)["slow_movers"]
    assert [(row["sku"], row["last_sold_on"]) for row in slow["items"]] == [("VASE", None), ("LAMP", "2025-03-01")]
    assert slow["stock_value"] == f"{D(7 * 10) * D('7.90') + D(8 * 5) * D('7.30'):.2f}"
    assert [row["sku"] for row in get(admin, "analysis", slow_days=31)["slow_movers"]["items"]] == ["VASE"]


def test_low_stock_lists_rows_below_their_reorder_point(stock, admin):
    low = get(admin, "analysis")["low_stock"]
    assert low["count"] == 1
    assert [(r["sku"], r["warehouse"]["code"], r["available"], r["shortfall"]) for r in low["items"]] == [
        ("LAMP", "W-CN", 8, 22)]


def test_an_operator_sees_demand_of_their_shops_only(world, stock):
    user = UserFactory(username="ops", roles=["运营"])
    user.shops.add(world.shops["us"])
    data = get(api_client_for(user), "analysis")
    mine = trailing(shops={"us"})
    assert data["turnover"]["cogs_30d"] == figures(mine)["cogs"]
    mug = next(row for row in data["days_of_cover"]["items"] if row["sku"] == "MUG")
    assert mug["units_30d"] == units(mine, "MUG")
    assert data["stock_value"] == f"{sum(STOCK_VALUE.values()):.2f}"  # stock belongs to no shop


def test_a_warehouse_narrows_stock_and_the_demand_of_the_shops_it_serves(stock, admin):
    data = get(admin, "analysis", warehouse=stock["de"].pk)
    assert [row["code"] for row in data["by_warehouse"]] == ["W-DE"]
    cover = {row["sku"]: row for row in data["days_of_cover"]["items"]}
    assert (cover["MUG"]["available"], cover["MUG"]["units_30d"], cover["MUG"]["days_of_cover"]) == (0, 1, "0.00")
    assert data["turnover"]["cogs_30d"] == figures(trailing(shops={"de"}))["cogs"]


def _expected_suggestion(units_30d, horizon, reorder_point, available, inbound):
    forecast = int((D(units_30d) / 30 * horizon).to_integral_value(rounding="ROUND_CEILING"))
    return max(0, forecast + reorder_point - available - inbound)


def test_replenishment_suggests_quantities_per_sku_and_warehouse(stock, admin):
    data = get(admin, "replenishment", page_size=50)
    rows = {(row["sku"], row["warehouse"]["code"]): row for row in data["items"]}
    us_mug = units(trailing(shops={"us"}), "MUG")
    expected = {  # (units, horizon, reorder point, available, inbound)
        ("MUG", "W-CN"): (us_mug, 15, 34, 35, 0),
        ("MUG", "W-DE"): (1, 15, 4, 0, 0),  # no stock row yet: the product's reorder point
        ("LAMP", "W-CN"): (0, 22, 30, 8, 15),
        ("CASE", "W-DE"): (3, 30, 0, 12, 10),
        ("VASE", "W-CN"): (0, 22, 0, 7, 0),
    }
    assert set(rows) == set(expected) and data["total"] == 5
    for key, args in expected.items():
        row = rows[key]
        assert (row["units_30d"], row["reorder_point"], row["available"], row["inbound"]) == (
            args[0], args[2], args[3], args[4]), key
        assert row["suggested_quantity"] == _expected_suggestion(*args), key
    stockout = TODAY + dt.timedelta(days=35 * 30 // us_mug)
    assert rows[("MUG", "W-CN")]["projected_stockout_date"] == stockout.isoformat()
    assert rows[("MUG", "W-DE")]["projected_stockout_date"] == TODAY.isoformat()
    assert rows[("CASE", "W-DE")]["days_of_cover"] == "120.00"
    assert rows[("LAMP", "W-CN")]["projected_stockout_date"] is None
    assert data["unattributed_units_30d"] == units(trailing(shops={"other"}), "MUG")
    assert [row["suggested_quantity"] for row in data["items"]] == sorted(
        (row["suggested_quantity"] for row in data["items"]), reverse=True)


def test_replenishment_filters_sorts_and_pages(stock, admin):
    needed = get(admin, "replenishment", needs_reorder="true")
    assert {(r["sku"], r["warehouse"]["code"]) for r in needed["items"]} == {
        (k, w) for (k, w), q in (
            (("MUG", "W-CN"), _expected_suggestion(units(trailing(shops={"us"}), "MUG"), 15, 34, 35, 0)),
            (("MUG", "W-DE"), 5), (("LAMP", "W-CN"), 7)) if q}
    by_date = get(admin, "replenishment", ordering="projected_stockout_date")["items"]
    dates = [row["projected_stockout_date"] for row in by_date]
    assert dates[:3] == sorted(d for d in dates if d) and dates[3:] == [None, None]
    second = get(admin, "replenishment", ordering="sku", page=2, page_size=2)
    assert [(row["sku"], row["warehouse"]["code"]) for row in second["items"]] == [("MUG", "W-CN"), ("MUG", "W-DE")]
    assert second["total"] == 5
    only_de = get(admin, "replenishment", warehouse=stock["de"].pk)
    assert {row["warehouse"]["code"] for row in only_de["items"]} == {"W-DE"}


@pytest.mark.parametrize("path", ["analysis", "replenishment"])
def test_stock_analyses_need_the_stock_permission(stock, path):
    assert api_client_for(UserFactory(username="keeper", roles=["仓库"])).get(
        f"/api/v1/inventory/{path}/").status_code == 200
    response = api_client_for(UserFactory(username="nobody")).get(f"/api/v1/inventory/{path}/")
    assert response.status_code == 403 and response.json()["code"] == 403


@pytest.mark.parametrize("path, params, name, status", [
    ("analysis", {"slow_days": "0"}, "slow_days", 400),
    ("analysis", {"warehouse": "999999"}, "warehouse", 404),
    ("analysis", {"platform": "nope"}, "platform", 400),
    ("replenishment", {"ordering": "price"}, "ordering", 400),
    ("replenishment", {"needs_reorder": "maybe"}, "needs_reorder", 400),
    ("replenishment", {"shop": "999999"}, "shop", 404),
])
def test_bad_parameters_name_themselves(stock, admin, path, params, name, status):
    response = admin.get(f"/api/v1/inventory/{path}/", params)
    assert response.status_code == status and list(response.json()["error"]) == [name]


def test_a_missing_rate_for_today_is_a_clear_400(stock, admin, monkeypatch):
    monkeypatch.setattr("apps.inventory.api.analysis.business_today", lambda: dt.date(2025, 6, 1))
    response = admin.get("/api/v1/inventory/analysis/")
    assert response.status_code == 400 and "2025-06-01" in response.json()["message"]


@pytest.mark.parametrize("path", ["analysis", "replenishment"])
def test_the_query_count_does_not_grow_with_the_orders(shanghai, db, path):
    small = build_world(specs=_more_orders(1))
    warehouse = WarehouseFactory()
    Shop.objects.filter(pk=small.shops["us"].pk).update(default_warehouse=warehouse)
    for product in small.products.values():
        services.stock_adjustment_create(product=product, warehouse=warehouse, quantity_change=9, reason="opening")
    client = api_client_for(UserFactory(username="boss", roles=["管理员"]))
    one = count_queries(lambda: client.get(f"/api/v1/inventory/{path}/"))
    store(small.shops, _more_orders(20)[1:])
    assert count_queries(lambda: client.get(f"/api/v1/inventory/{path}/")) == one
