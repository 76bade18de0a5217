"""sales/summary/: the KPIs per dimension, sorted and paged, against the order specs grouped here."""
from collections import defaultdict
from decimal import Decimal

import pytest

from apps.core.money import ZERO, quantize_money
from apps.core.testing import api_client_for, count_queries
from apps.users.tests.factories import UserFactory

from .test_analytics_dataset import END, START, counted, figures, shanghai, world  # noqa: F401

pytestmark = pytest.mark.django_db
MARCH = {"start": START.isoformat(), "end": END.isoformat()}
METRICS = ("gross_sales", "refunds", "net_sales", "orders", "units", "aov", "cogs", "platform_fees", "gross_profit",
           "margin")


@pytest.fixture
def admin():
    return api_client_for(UserFactory(username="boss", roles=["管理员"]))


def summary(client, **params):
    response = client.get("/api/v1/sales/summary/", {**MARCH, "page_size": 200, **params})
    assert response.status_code == 200, response.content
    return response.json()["data"]


def _key(group_by, spec, world):
    return {
        "day": lambda: spec.day.isoformat(),
        "month": lambda: spec.day.strftime("%Y-%m"),
        "shop": lambda: world.shops[spec.shop].pk,
        "platform": lambda: spec.platform,
        "country": lambda: spec.country,
    }[group_by]()


@pytest.mark.parametrize("group_by", ["day", "month", "shop", "platform", "country"])
def test_each_group_equals_its_orders_summed_in_the_test(world, admin, group_by):
    groups = defaultdict(list)
    for spec in counted():
        groups[_key(group_by, spec, world)].append(spec)
    data = summary(admin, group_by=group_by)
    assert data["total"] == len(groups) == len(data["items"])
    for item in data["items"]:
        assert {name: item[name] for name in METRICS} == figures(groups[item["key"]]), item["key"]
    assert data["totals"] == figures(counted())


def test_by_sku_sales_are_line_totals_and_order_level_amounts_are_left_out(world, admin):
    expected = defaultdict(lambda: {"orders": set(), "units": 0, "gross": ZERO, "cogs": ZERO})
    for spec in counted():
        for sku, qty, price in spec.lines:
            row = expected[sku]
            row["orders"].add(spec.pid)
            row["units"] += qty
            row["gross"] += spec.base(qty * price)
            row["cogs"] += qty * spec.unit_cost(sku)
    data = summary(admin, group_by="sku")
    assert [item["key"] for item in data["items"]] == sorted(expected, key=lambda sku: -expected[sku]["gross"])
    for item in data["items"]:
        row = expected[item["key"]]
        profit = row["gross"] - row["cogs"]
        assert item["label"] == f"商品 {item['key']}" and item["product_id"] == world.products[item["key"]].pk
        assert (item["gross_sales"], item["net_sales"], item["cogs"], item["gross_profit"]) == (
            f"{row['gross']:.2f}", f"{row['gross']:.2f}", f"{row['cogs']:.2f}", f"{profit:.2f}")
        assert (item["orders"], item["units"], item["refunds"], item["platform_fees"]) == (
            len(row["orders"]), row["units"], None, None)
        assert item["margin"] == f"{quantize_money(profit / row['gross'] * 100):.2f}"


@pytest.mark.parametrize("ordering", ["-net_sales", "net_sales", "margin", "-margin", "-orders", "aov"])
def test_groups_sort_by_any_metric_either_way(world, admin, ordering):
    items = summary(admin, group_by="day", ordering=ordering)["items"]
    name = ordering.lstrip("-")
    values = [Decimal(str(item[name])) for item in items if item[name] is not None]
    assert values == sorted(values, reverse=ordering.startswith("-"))
    nulls = [item["key"] for item in items if item[name] is None]
    assert [item["key"] for item in items[len(values):]] == nulls  # a null (the fully refunded day) sorts last
    assert len(items) == 7 and len(nulls) == (1 if name == "margin" else 0)


def test_pages_are_slices_of_the_sorted_groups(world, admin):
    every_day = [item["key"] for item in summary(admin, group_by="day")["items"]]
    assert every_day == sorted(every_day)
    page = summary(admin, group_by="day", page=2, page_size=3)
    assert (page["total"], page["page"], page["page_size"]) == (7, 2, 3)
    assert [item["key"] for item in page["items"]] == every_day[3:6]
    assert summary(admin, group_by="day", page=9, page_size=3)["items"] == []


def test_an_operator_sees_only_their_shops_groups(world):
    user = UserFactory(username="ops", roles=["运营"])
    user.shops.add(world.shops["de"])
    data = summary(api_client_for(user), group_by="platform")
    assert [item["key"] for item in data["items"]] == ["amazon"]
    assert data["totals"] == figures(counted(shops={"de"}))


def test_an_empty_period_is_an_empty_page_with_zero_totals(world, admin):
    data = summary(admin, group_by="shop", start="2024-01-01", end="2024-01-31")
    assert (data["items"], data["total"]) == ([], 0)
    assert data["totals"]["net_sales"] == "0.00" and data["totals"]["margin"] is None


@pytest.mark.parametrize("params, name", [
    ({"group_by": "week"}, "group_by"),
    ({"ordering": "-profit"}, "ordering"),
    ({"page_size": "500"}, "page_size"),
    ({"page": "0"}, "page"),
])
def test_bad_summary_parameters_are_400s_naming_the_parameter(world, admin, params, name):
    response = admin.get("/api/v1/sales/summary/", params)
    body = response.json()
    assert response.status_code == 400 and body["code"] == 400
    assert list(body["error"]) == [name]


def test_every_page_costs_the_same_queries(world, admin):
    first = count_queries(lambda: admin.get("/api/v1/sales/summary/", {**MARCH, "group_by": "day", "page_size": 2}))
    second = count_queries(lambda: admin.get("/api/v1/sales/summary/",
                                             {**MARCH, "group_by": "day", "page_size": 2, "page": 3}))
    by_sku = count_queries(lambda: admin.get("/api/v1/sales/summary/", {**MARCH, "group_by": "sku", "page": 2}))
    assert first == second == by_sku
