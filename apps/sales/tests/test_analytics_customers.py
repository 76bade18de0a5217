"""sales/customer-analysis/ against the order specs: new vs returning, repeat rate, RFM, top, countries."""
import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest

from apps.core.money import ZERO
from apps.core.testing import api_client_for
from apps.users.tests.factories import UserFactory

from .test_analytics_dataset import END, SPECS, START, Spec, counted, shanghai, store, utc, world  # noqa: F401

pytestmark = pytest.mark.django_db
MARCH = {"start": START.isoformat(), "end": END.isoformat()}


@pytest.fixture
def admin():
    return api_client_for(UserFactory(username="boss", roles=["管理员"]))


def analysis(client, **params):
    response = client.get("/api/v1/sales/customer-analysis/", {**MARCH, **params})
    assert response.status_code == 200, response.content
    return response.json()["data"]


def buyers(specs):
    """(shop, buyer) → the counted orders of the period: a buyer is a customer of one shop."""
    result = defaultdict(list)
    for spec in specs:
        result[(spec.shop, spec.buyer)].append(spec)
    return result


def first_days():
    first = {}
    for spec in SPECS:
        if spec.counted:
            key = (spec.shop, spec.buyer)
            first[key] = min(first.get(key, spec.day), spec.day)
    return first


def test_new_and_returning_customers_follow_each_buyers_first_order_ever(world, admin):
    data = analysis(admin)
    period, first = buyers(counted()), first_days()
    new = {key for key in period if first[key] >= START}
    assert (data["customers"], data["new_customers"], data["returning_customers"]) == (
        len(period), len(new), len(period) - len(new))
    assert new == {("us", "b2"), ("us", "b3"), ("de", "e2"), ("other", "x1")}  # b1 and e1 bought in February
    repeat = sum(1 for specs in period.values() if len(specs) >= 2)
    assert data["repeat_purchase_rate"] == f"{Decimal(repeat) / len(period) * 100:.2f}"
    assert data["orders_without_customer"] == 0


def test_by_week_a_customer_is_new_only_in_the_week_of_their_first_order(world, admin):
    data = analysis(admin, interval="week")
    first = first_days()
    monday = lambda day: day - dt.timedelta(days=day.weekday())  # noqa: E731
    expected = defaultdict(lambda: [0, 0])
    for (key, specs) in buyers(counted()).items():
        for week in {monday(spec.day) for spec in specs}:
            is_new = first[key] >= START and monday(first[key]) == week
            expected[week][0 if is_new else 1] += 1
    assert len(data["by_period"]) == 6
    for row in data["by_period"]:
        week = dt.date.fromisoformat(row["period"])
        assert [row["new_customers"], row["returning_customers"]] == expected.get(week, [0, 0])


def test_rfm_segments_compare_each_customer_with_the_periods_averages(world, admin):
    data = analysis(admin)["rfm"]
    period = buyers(counted())
    recency = {k: (END - max(s.day for s in v)).days for k, v in period.items()}
    frequency = {k: len(v) for k, v in period.items()}
    monetary = {k: sum((s.base(s.total) - s.base(s.refund) for s in v), ZERO) for k, v in period.items()}
    n = len(period)
    mean_r, mean_f, mean_m = (sum(x.values()) / Decimal(n) for x in (recency, frequency, monetary))
    names = {(True, True, True): "important_value", (True, False, True): "important_development",
             (False, True, True): "important_retention", (False, False, True): "important_winback",
             (True, True, False): "general_value", (True, False, False): "general_development",
             (False, True, False): "general_retention", (False, False, False): "general_winback"}
    expected = defaultdict(lambda: [0, ZERO])
    for key in period:
        segment = names[(recency[key] <= mean_r, frequency[key] >= mean_f, monetary[key] >= mean_m)]
        expected[segment][0] += 1
        expected[segment][1] += monetary[key]
    assert data["avg_frequency"] == f"{mean_f:.2f}"
    assert len(data["segments"]) == 8
    for row in data["segments"]:
        count, net = expected.get(row["segment"], [0, ZERO])
        assert (row["customers"], row["net_sales"]) == (count, f"{net:.2f}"), row["segment"]
    assert sum(row["customers"] for row in data["segments"]) == n


def test_top_customers_are_ranked_by_net_sales(world, admin):
    top = analysis(admin, limit=3)["top_customers"]
    period = buyers(counted())
    net = {f"买家 {buyer}": sum((s.base(s.total) - s.base(s.refund) for s in specs), ZERO)
           for (_, buyer), specs in period.items()}
    ranked = sorted(net.values(), reverse=True)[:3]
    assert [Decimal(row["net_sales"]) for row in top] == ranked
    assert [row["name"] for row in top[:2]] == ["买家 b1", "买家 e1"]
    assert top[0]["orders"] == 2 and top[0]["shop"]["id"] == world.shops["us"].pk


def test_customers_by_country_count_each_buyer_once(world, admin):
    rows = {row["country"]: row for row in analysis(admin)["by_country"]}
    expected = defaultdict(set)
    for spec in counted():
        expected[spec.country].add((spec.shop, spec.buyer))
    assert {country: row["customers"] for country, row in rows.items()} == {
        country: len(keys) for country, keys in expected.items()}
    us = [s for s in counted() if s.country == "US"]
    assert rows["US"]["net_sales"] == f"{sum((s.base(s.total) - s.base(s.refund) for s in us), ZERO):.2f}"


def test_an_operator_sees_only_their_shops_customers(world):
    user = UserFactory(username="ops", roles=["运营"])
    user.shops.add(world.shops["de"])
    data = analysis(api_client_for(user))
    assert (data["customers"], data["new_customers"]) == (2, 1)
    assert {row["name"] for row in data["top_customers"]} == {"买家 e1", "买家 e2"}


def test_an_empty_period_has_no_customers_and_null_rates(world, admin):
    data = analysis(admin, start="2024-01-01", end="2024-01-31")
    assert (data["customers"], data["repeat_purchase_rate"], data["top_customers"]) == (0, None, [])
    assert {row["customers"] for row in data["rfm"]["segments"]} == {0}


def test_a_buyer_whose_first_order_was_just_before_the_period_is_returning(world, admin):
    # 02:00 UTC on 28 February is 10:00 in Shanghai: b2 (first seen on 1 March) had bought the day before.
    store(world.shops, [Spec("us", "U10", utc(2025, 2, 28, 2), "paid", [("MUG", 1, Decimal("9"))], "b2")])
    data = analysis(admin, interval="week")
    assert (data["new_customers"], data["returning_customers"]) == (3, 3)
    first_week = data["by_period"][0]
    assert (first_week["period"], first_week["new_customers"], first_week["returning_customers"]) == (
        "2025-02-24", 0, 1)
    assert sum(row["new_customers"] for row in data["by_period"]) == data["new_customers"]


def test_orders_without_a_buyer_are_counted_apart_from_customers(world, admin):
    before = analysis(admin)
    guests = [
        Spec("us", "G1", utc(2025, 3, 8, 4), "paid", [("MUG", 1, Decimal("30"))], None),
        Spec("us", "G2", utc(2025, 3, 9, 4), "delivered", [("MUG", 2, Decimal("30"))], None, country="CA"),
        Spec("us", "G3", utc(2025, 3, 9, 5), "cancelled", [("MUG", 1, Decimal("30"))], None),
        Spec("us", "G4", utc(2025, 4, 9, 5), "paid", [("MUG", 1, Decimal("30"))], None),  # after the period
    ]
    store(world.shops, guests)
    after = analysis(admin)
    assert after["orders_without_customer"] == 2
    unchanged = ("customers", "new_customers", "repeat_purchase_rate", "rfm", "top_customers", "by_period")
    assert {key: after[key] for key in unchanged} == {key: before[key] for key in unchanged}
    assert after["by_country"] == before["by_country"]  # a country lists buyers and their net sales only


def test_the_top_customers_come_from_repeat_and_single_buyers_alike(world, admin):
    # limit=1 takes the best single buyer from those at or above the mean; a large limit needs the
    # single buyers below it too.
    period = buyers(counted())
    net = {f"买家 {buyer}": sum((s.base(s.total) - s.base(s.refund) for s in specs), ZERO)
           for (_, buyer), specs in period.items()}
    ranked = sorted(net.items(), key=lambda item: -item[1])
    for limit in (1, 2, len(period), 50):
        top = analysis(admin, limit=limit)["top_customers"]
        assert [(row["name"], Decimal(row["net_sales"])) for row in top] == ranked[:limit], limit


def test_the_customer_analysis_index_holds_the_counted_statuses():
    from apps.sales.models import Order
    from apps.sales.services import COUNTED_ORDER_STATUSES

    index = next(index for index in Order._meta.indexes if index.name == "order_buyer_period_idx")
    assert dict(index.condition.children)["status__in"] == list(COUNTED_ORDER_STATUSES)


def test_a_buyer_exactly_at_a_mean_is_high_in_it(world, admin):
    # 2–9 April, USD at 7.30: net 73.00, 146.00, 219.00 for three single buyers and 36.50 + 109.50
    # = 146.00 for a buyer with two orders. Mean M = 584 / 4 = 146.00: s20 and r2 are exactly on it.
    # Mean last day = 4 April (2, 4, 6 and 4): s20 and r2 again. Mean F = 5 / 4: only r2 is high.
    def order(pid, day, amount, buyer):
        return Spec("other", pid, utc(2025, 4, day, 4), "paid", [("MUG", 1, Decimal(amount))], buyer)

    store(world.shops, [order("S10", 2, "10", "s10"), order("S20", 4, "20", "s20"), order("S30", 6, "30", "s30"),
                        order("R2A", 3, "5", "r2"), order("R2B", 4, "15", "r2")])
    data = analysis(admin, start="2025-04-02", end="2025-04-09")
    segments = {row["segment"]: (row["customers"], row["net_sales"]) for row in data["rfm"]["segments"]
                if row["customers"]}
    assert segments == {
        "important_value": (1, "146.00"),  # r2: recent, frequent, at the mean
        "important_development": (2, "365.00"),  # s20 at both means, s30
        "general_winback": (1, "73.00"),  # s10
    }
    assert (data["rfm"]["avg_monetary"], data["rfm"]["avg_frequency"]) == ("146.00", "1.25")
