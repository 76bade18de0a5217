"""finance/profit/ on the shared sales dataset plus expenses in every state."""
import datetime as dt
from decimal import Decimal

import pytest

from apps.core.money import ZERO, quantize_money
from apps.core.testing import api_client_for, count_queries
from apps.finance.models import Expense
from apps.sales.tests.test_analytics_access import _more_orders
from apps.sales.tests.test_analytics_dataset import (  # noqa: F401
    END,
    START,
    build_world,
    counted,
    figures,
    shanghai,
    store,
    world,
)
from apps.users.tests.factories import UserFactory

from .factories import ExpenseFactory

pytestmark = pytest.mark.django_db
MARCH = {"start": START.isoformat(), "end": END.isoformat()}
D = Decimal
APPROVED, SUBMITTED, REJECTED = Expense.Status.APPROVED, Expense.Status.SUBMITTED, Expense.Status.REJECTED


@pytest.fixture
def expenses(world):
    shops = world.shops
    for shop, day, amount, status in (
        ("us", dt.date(2025, 3, 10), "300.00", APPROVED),
        (None, dt.date(2025, 3, 15), "1000.00", APPROVED),   # company-wide
        ("us", dt.date(2025, 3, 12), "500.00", SUBMITTED),   # not approved: not counted
        ("de", dt.date(2025, 3, 13), "700.00", REJECTED),
        ("de", dt.date(2025, 2, 20), "200.00", APPROVED),    # February
        ("de", dt.date(2025, 3, 31), "150.00", APPROVED),
        ("other", dt.date(2025, 4, 1), "90.00", APPROVED),   # April
    ):
        ExpenseFactory(shop=shops[shop] if shop else None, expense_date=day, amount=D(amount),
                       amount_base=D(amount), status=status,
                       rejection_reason="发票缺失" if status == REJECTED else "")


@pytest.fixture
def admin():
    return api_client_for(UserFactory(username="boss", roles=["管理员"]))


def profit(client, **params):
    response = client.get("/api/v1/finance/profit/", {**MARCH, **params})
    assert response.status_code == 200, response.content
    return response.json()["data"]


def expected_row(specs, expenses: Decimal) -> dict:
    sales = figures(specs)
    net_profit = D(sales["gross_profit"]) - expenses
    net = D(sales["net_sales"])
    return {
        "gross_sales": sales["gross_sales"], "refunds": sales["refunds"], "net_sales": sales["net_sales"],
        "cogs": sales["cogs"], "platform_fees": sales["platform_fees"], "gross_profit": sales["gross_profit"],
        "expenses": f"{expenses:.2f}", "net_profit": f"{net_profit:.2f}",
        "net_margin": f"{quantize_money(net_profit / net * 100):.2f}" if net else None,
    }


def strip(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in ("key", "label", "product_id")}


def test_by_month_each_month_has_its_sales_and_approved_expenses(world, expenses, admin):
    data = profit(admin, start="2025-02-01", end="2025-03-31", group_by="month")
    rows = {row["key"]: row for row in data["items"]}
    assert list(rows) == ["2025-02", "2025-03"]
    february = counted(start=dt.date(2025, 2, 1), end=dt.date(2025, 2, 28))
    assert strip(rows["2025-02"]) == expected_row(february, D("200"))
    assert strip(rows["2025-03"]) == expected_row(counted(), D("300") + D("1000") + D("150"))


def test_by_shop_company_wide_expenses_are_a_row_of_their_own(world, expenses, admin):
    data = profit(admin, group_by="shop", page_size=50)
    rows = {row["key"]: row for row in data["items"]}
    assert set(rows) == {world.shops[k].pk for k in ("us", "de", "other")} | {None}
    assert strip(rows[world.shops["us"].pk]) == expected_row(counted(shops={"us"}), D("300"))
    assert strip(rows[world.shops["de"].pk]) == expected_row(counted(shops={"de"}), D("150"))
    assert strip(rows[world.shops["other"].pk]) == expected_row(counted(shops={"other"}), ZERO)
    company = rows[None]
    assert (company["label"], company["net_sales"], company["expenses"], company["net_profit"]) == (
        "公司（未分摊费用）", "0.00", "1000.00", "-1000.00")
    assert data["items"][-1]["key"] is None  # no sales: sorts last by -net_sales
    assert strip(data["totals"]) == expected_row(counted(), D("1450"))


def test_by_platform_shop_expenses_follow_their_shops_platform(world, expenses, admin):
    rows = {row["key"]: row for row in profit(admin, group_by="platform")["items"]}
    assert strip(rows["shopify"]) == expected_row(counted(platform="shopify"), D("300"))
    assert strip(rows["amazon"]) == expected_row(counted(platform="amazon"), D("150"))
    assert rows[None]["expenses"] == "1000.00"


def test_by_sku_order_level_amounts_and_expenses_are_not_attributed(world, expenses, admin):
    data = profit(admin, group_by="sku")
    mug = next(row for row in data["items"] if row["key"] == "MUG")
    sold = [(s, qty, price) for s in counted() for sku, qty, price in s.lines if sku == "MUG"]
    gross = sum((s.base(qty * price) for s, qty, price in sold), ZERO)
    cogs = sum((qty * s.unit_cost("MUG") for s, qty, _ in sold), ZERO)
    assert (mug["gross_sales"], mug["cogs"], mug["net_profit"]) == (
        f"{gross:.2f}", f"{cogs:.2f}", f"{gross - cogs:.2f}")
    assert (mug["refunds"], mug["platform_fees"], mug["expenses"]) == (None, None, None)
    assert strip(data["totals"]) == expected_row(counted(), D("1450"))  # the whole period, expenses included


def test_a_finance_user_sees_their_shops_and_company_expenses(world, expenses):
    user = UserFactory(username="fin", roles=["财务"])
    user.shops.add(world.shops["de"])
    client = api_client_for(user)
    data = profit(client, group_by="shop")
    assert {row["key"] for row in data["items"]} == {world.shops["de"].pk, None}
    assert strip(data["totals"]) == expected_row(counted(shops={"de"}), D("150") + D("1000"))
    narrowed = profit(client, group_by="shop", shop=world.shops["de"].pk)
    assert strip(narrowed["totals"]) == expected_row(counted(shops={"de"}), D("150"))  # no company row
    assert client.get("/api/v1/finance/profit/", {"shop": world.shops["us"].pk}).status_code == 404


def test_sorting_and_paging_of_profit_rows(world, expenses, admin):
    data = profit(admin, group_by="shop", ordering="net_profit", page_size=2)
    assert data["total"] == 4 and len(data["items"]) == 2
    assert data["items"][0]["key"] is None  # the company row, a loss, is the lowest
    by_margin = profit(admin, group_by="shop", ordering="-net_margin")["items"]
    margins = [D(row["net_margin"]) for row in by_margin[:3]]
    assert margins == sorted(margins, reverse=True) and by_margin[3]["net_margin"] is None  # no sales, no margin


def test_an_empty_period_is_zeros(world, expenses, admin):
    data = profit(admin, start="2024-01-01", end="2024-01-31", group_by="month")
    assert [strip(row) for row in data["items"]] == [expected_row([], ZERO)]
    assert data["totals"]["net_profit"] == "0.00" and data["totals"]["net_margin"] is None


def test_profit_needs_the_profit_permission(world):
    operator = api_client_for(UserFactory(username="ops", roles=["运营"]))
    response = operator.get("/api/v1/finance/profit/")
    assert response.status_code == 403 and response.json()["code"] == 403


@pytest.mark.parametrize("params, name", [
    ({"group_by": "day"}, "group_by"), ({"start": "2025/03/01"}, "start"),
    ({"start": "2025-03-02", "end": "2025-03-01"}, "end"), ({"ordering": "-margin"}, "ordering"),
])
def test_bad_parameters_are_400s_naming_the_parameter(admin, params, name):
    response = admin.get("/api/v1/finance/profit/", params)
    assert response.status_code == 400 and list(response.json()["error"]) == [name]


@pytest.mark.parametrize("group_by", ["month", "shop", "platform", "sku"])
def test_the_query_count_does_not_grow_with_the_orders(shanghai, db, group_by):
    small = build_world(specs=_more_orders(1))
    user = UserFactory(username="fin", roles=["财务"])
    user.shops.add(small.shops["us"])
    client = api_client_for(user)
    params = {**MARCH, "group_by": group_by}
    one = count_queries(lambda: client.get("/api/v1/finance/profit/", params))
    store(small.shops, _more_orders(20)[1:])
    ExpenseFactory(shop=small.shops["us"], expense_date=dt.date(2025, 3, 3), status=APPROVED)
    assert count_queries(lambda: client.get("/api/v1/finance/profit/", params)) == one
