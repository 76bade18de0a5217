"""sales/order-analysis/ and sales/team-performance/ against the order specs."""
import datetime as dt
from collections import Counter, defaultdict
from decimal import Decimal

import pytest

from apps.core.money import ZERO, quantize_money
from apps.core.testing import api_client_for
from apps.sales.tests.factories import SalesTargetFactory
from apps.users.tests.factories import UserFactory

from .test_analytics_dataset import END, SPECS, START, counted, figures, shanghai, world  # noqa: F401

pytestmark = pytest.mark.django_db
MARCH = {"start": START.isoformat(), "end": END.isoformat()}


@pytest.fixture
def admin():
    return api_client_for(UserFactory(username="boss", roles=["管理员"]))


def get(client, path, **params):
    response = client.get(f"/api/v1/{path}", params)
    assert response.status_code == 200, response.content
    return response.json()["data"]


def pct(part, whole) -> str:
    return f"{quantize_money(Decimal(part) / Decimal(whole) * 100):.2f}"


def test_order_analysis_matches_the_specs(world, admin):
    data = get(admin, "sales/order-analysis/", **MARCH)
    placed = [s for s in SPECS if START <= s.day <= END]
    sold = counted()
    assert (data["orders"], data["counted_orders"]) == (len(placed), len(sold))
    assert {row["status"]: row["orders"] for row in data["by_status"]} == {
        status: Counter(s.status for s in placed)[status]
        for status in ("pending", "paid", "shipped", "delivered", "cancelled", "partially_refunded", "refunded")
    }
    countries = defaultdict(list)
    for spec in sold:
        countries[spec.country].append(spec)
    assert {row["country"]: (row["orders"], row["gross_sales"], row["net_sales"]) for row in data["by_country"]} == {
        country: (len(specs), figures(specs)["gross_sales"], figures(specs)["net_sales"])
        for country, specs in countries.items()
    }
    channels = {row["channel"]: (row["orders"], row["gross_sales"]) for row in data["by_fulfillment_channel"]}
    for channel in ("merchant", "platform"):
        specs = [s for s in sold if s.channel == channel]
        assert channels[channel] == (len(specs), figures(specs)["gross_sales"])

    shipped = [s for s in sold if s.shipped_at]
    hours = sum((Decimal((s.shipped_at - s.at).total_seconds()) / 3600 for s in shipped), ZERO) / len(shipped)
    assert (data["shipped_orders"], data["avg_hours_to_shipment"]) == (len(shipped), f"{quantize_money(hours):.2f}")
    assert data["cancellation_rate"] == pct(sum(s.status == "cancelled" for s in placed), len(placed))
    assert data["refund_rate"] == pct(sum(s.refund > 0 for s in sold), len(sold))
    everything = figures(sold)
    assert data["refund_amount_rate"] == pct(everything["refunds"], everything["gross_sales"])


def test_order_analysis_of_an_operator_counts_their_shop_only(world):
    user = UserFactory(username="ops", roles=["运营"])
    user.shops.add(world.shops["us"])
    data = get(api_client_for(user), "sales/order-analysis/", **MARCH)
    assert data["orders"] == sum(1 for s in SPECS if s.shop == "us" and START <= s.day <= END)
    assert {row["country"] for row in data["by_country"]} == {"US", "GB"}
    assert next(r for r in data["by_fulfillment_channel"] if r["channel"] == "platform")["orders"] == 0


def test_an_empty_period_has_zero_counts_and_null_rates(world, admin):
    data = get(admin, "sales/order-analysis/", start="2024-01-01", end="2024-01-31")
    assert data["orders"] == 0 and {row["orders"] for row in data["by_status"]} == {0}
    assert (data["avg_hours_to_shipment"], data["cancellation_rate"], data["refund_rate"]) == (None, None, None)
    assert data["by_country"] == []


@pytest.fixture
def targets(world):
    zhang, li = world.salespeople["us"], world.salespeople["de"]
    SalesTargetFactory(salesperson=zhang, month=dt.date(2025, 2, 1), target_amount_base=Decimal("1000.00"))
    SalesTargetFactory(salesperson=zhang, month=dt.date(2025, 3, 1), target_amount_base=Decimal("2000.00"))
    SalesTargetFactory(salesperson=li, month=dt.date(2025, 3, 1), target_amount_base=Decimal("1000.00"))
    SalesTargetFactory(salesperson=li, month=dt.date(2025, 4, 1), target_amount_base=Decimal("9999.00"))


def test_team_performance_goes_through_the_shops_each_salesperson_owns(world, admin, targets):
    start, end = dt.date(2025, 2, 15), END
    data = get(admin, "sales/team-performance/", start=start.isoformat(), end=end.isoformat())
    rows = {row["label"]: row for row in data["items"]}
    assert list(rows) == sorted(rows, key=lambda label: -Decimal(rows[label]["net_sales"]))
    for label, shop in (("张三", "us"), ("李四", "de"), ("未分配", "other")):
        expected = figures(counted(start=start, end=end, shops={shop}))
        assert {k: rows[label][k] for k in expected} == expected

    zhang = rows["张三"]
    target = Decimal("1000") * 14 / 28 + Decimal("2000")  # half of February's days are in the period
    assert zhang["target"] == f"{target:.2f}"
    assert zhang["attainment"] == pct(zhang["net_sales"], target)
    february, march = zhang["months"]
    assert (february["month"], february["target"], february["net_sales"], february["attainment"]) == (
        "2025-02", "1000.00", "0.00", "0.00")
    march_net = figures(counted(shops={"us"}))["net_sales"]
    assert (march["net_sales"], march["attainment"]) == (march_net, pct(march_net, 2000))
    assert rows["李四"]["target"] == "1000.00" and rows["李四"]["months"][0]["target"] is None
    assert (rows["未分配"]["salesperson"], rows["未分配"]["target"], rows["未分配"]["attainment"]) == (None, None, None)


def test_team_performance_of_an_operator_lists_the_owner_of_their_shop_only(world, targets):
    user = UserFactory(username="ops", roles=["运营"])
    user.shops.add(world.shops["us"])
    data = get(api_client_for(user), "sales/team-performance/", **MARCH)
    assert [row["label"] for row in data["items"]] == ["张三"]


def test_a_salesperson_without_sales_in_the_period_is_listed_with_zeros(world, admin, targets):
    data = get(admin, "sales/team-performance/", start="2025-04-02", end="2025-04-30")
    rows = {row["label"]: row for row in data["items"]}
    assert set(rows) == {"张三", "李四"}  # nobody sold; the unassigned row only appears with sales
    assert rows["李四"]["net_sales"] == "0.00" and rows["李四"]["target"] == f"{Decimal('9999') * 29 / 30:.2f}"
    assert rows["李四"]["attainment"] == "0.00" and rows["张三"]["target"] is None
