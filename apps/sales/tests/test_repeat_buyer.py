"""Order.repeat_buyer is set on every order of a buyer with two or more counted orders, whether
those came in one batch, in later batches, or by a pending order being paid; it is cleared when a
cancellation leaves one. The customer analysis groups only marked orders by buyer."""
import dataclasses
import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from apps.core.testing import api_client_for
from apps.sales.ingest import orders_upsert
from apps.sales.ingest.types import BatchTurn
from apps.sales import services
from apps.sales.models import Customer, Order, SalesDaily
from apps.sales.services import COUNTED_ORDER_STATUSES, sales_rollups_rebuild
from apps.users.tests.factories import UserFactory

from .test_analytics_dataset import END, SPECS, START, Spec, shanghai, utc, world  # noqa: F401

pytestmark = pytest.mark.django_db


def marked() -> set[str]:
    return set(Order.objects.filter(repeat_buyer=True).values_list("platform_order_id", flat=True))


def collect(world, shop: str, *specs: Spec, later: bool = False) -> None:
    """Stores the specs through the upsert; `later` as a platform update after the first collection."""
    orders = [spec.data() for spec in specs]
    if later:
        orders = [dataclasses.replace(data, platform_updated_at=data.platform_updated_at + dt.timedelta(days=60))
                  for data in orders]
    result = orders_upsert(shop=world.shops[shop], orders=orders)
    assert not result.rejected, result.rejected


def single_figures() -> dict:
    """The rollups' single-buyer and guest figures per (day, shop, country), as stored."""
    return {
        (row.date, row.shop_id, row.buyer_country): (row.single_orders, row.single_net_base, row.guest_orders)
        for row in SalesDaily.objects.all()
        if (row.single_orders, row.single_net_base, row.guest_orders) != (0, Decimal("0.00"), 0)
    }


def single_figures_of_orders() -> dict:
    """The same figures computed here from the orders and their buyers' counted orders."""
    counted = list(Order.objects.filter(status__in=COUNTED_ORDER_STATUSES))
    per_buyer: dict[int, int] = {}
    for order in counted:
        if order.customer_id is not None:
            per_buyer[order.customer_id] = per_buyer.get(order.customer_id, 0) + 1
    figures: dict = {}
    zone = ZoneInfo(settings.TIME_ZONE)
    for order in counted:
        key = (order.ordered_at.astimezone(zone).date(), order.shop_id, order.buyer_country)
        singles, net, guests = figures.get(key, (0, Decimal("0.00"), 0))
        if order.customer_id is None:
            guests += 1
        elif per_buyer[order.customer_id] == 1:
            singles, net = singles + 1, net + order.total_amount_base - order.refund_amount_base
        figures[key] = (singles, net, guests)
    return {key: value for key, value in figures.items() if value != (0, Decimal("0.00"), 0)}


def assert_single_figures_kept():
    expected = single_figures_of_orders()
    assert single_figures() == expected
    per_buyer: dict[int, int] = {}
    for customer_id in Order.objects.filter(status__in=COUNTED_ORDER_STATUSES, customer__isnull=False).values_list(
            "customer_id", flat=True):
        per_buyer[customer_id] = per_buyer.get(customer_id, 0) + 1
    assert set(Customer.objects.filter(repeat_buyer=True).values_list("pk", flat=True)) == {
        pk for pk, count in per_buyer.items() if count >= 2}
    sales_rollups_rebuild(start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31))
    assert single_figures() == expected  # and what a rebuild of every day gives


def spec(pid: str) -> Spec:
    return next(spec for spec in SPECS if spec.pid == pid)


def repeat_rate(buyers_with_two: int, buyers: int) -> str:
    return f"{buyers_with_two / buyers * 100:.2f}"


def test_the_orders_of_buyers_with_two_counted_orders_are_marked(world):
    # b1: U1, U4, U8; b3: U3, U7; e1: D1, D3. b4's and b5's only orders are cancelled or pending.
    assert marked() == {"U1", "U4", "U8", "U3", "U7", "D1", "D3"}
    assert_single_figures_kept()


def test_a_buyers_second_order_in_a_later_batch_marks_both(world):
    before = single_figures()
    collect(world, "us", Spec("us", "U20", utc(2025, 3, 25, 8), "paid", [("MUG", 1, 30)], "b2"))
    assert {"U2", "U20"} <= marked()
    assert single_figures() != before  # U2's day lost a single buyer's order
    assert_single_figures_kept()


def test_a_pending_order_being_paid_marks_the_buyer_and_a_cancellation_clears_it(world):
    collect(world, "us", Spec("us", "U21", utc(2025, 3, 26, 8), "paid", [("MUG", 1, 30)], "b5"))
    assert not {"U6", "U21"} & marked()  # U6 is still pending: one counted order
    assert single_figures() == single_figures_of_orders()

    # U6's day is rebuilt; U21, on another day, leaves that day's single buyers' figures and comes back.
    collect(world, "us", dataclasses.replace(spec("U6"), status="paid"), later=True)
    assert {"U6", "U21"} <= marked()
    assert single_figures() == single_figures_of_orders()

    collect(world, "us", dataclasses.replace(spec("U6"), status="cancelled"), later=True)
    assert not {"U6", "U21"} & marked()
    assert_single_figures_kept()


def test_the_analysis_counts_a_buyer_made_a_repeat_buyer_by_a_payment(world):
    client = api_client_for(UserFactory(username="boss", roles=["管理员"]))
    period = {"start": START.isoformat(), "end": END.isoformat(), "shop": world.shops["us"].pk}

    def analysis():
        response = client.get("/api/v1/sales/customer-analysis/", period)
        assert response.status_code == 200, response.content
        return response.json()["data"]

    collect(world, "us", Spec("us", "U22", utc(2025, 3, 26, 8), "paid", [("MUG", 1, 30)], "b5"))
    before = analysis()
    collect(world, "us", dataclasses.replace(spec("U6"), status="paid"), later=True)
    after = analysis()
    # b5 was a customer with one counted order in March and now has two: same customers, one more repeater.
    assert after["customers"] == before["customers"]
    repeaters_before = round(float(before["repeat_purchase_rate"]) * before["customers"] / 100)
    assert after["repeat_purchase_rate"] == repeat_rate(repeaters_before + 1, after["customers"])
    assert sum(row["customers"] for row in after["rfm"]["segments"]) == after["customers"]


def test_a_new_order_of_a_known_repeat_buyer_is_written_marked_and_its_count_handed_on(world, monkeypatch):
    """The flag is written with the order (and the order added to the rollups as a repeat buyer's),
    not set by the check that follows: here the check only records whom it was asked about."""
    checked: list[int] = []
    monkeypatch.setattr(services, "_repeat_flags_check", checked.extend)
    b1 = Customer.objects.get(platform_buyer_id="b1")
    handed: list[dict] = []
    turn = BatchTurn(known_customers={}, resolved=lambda customers, counted: handed.append(counted),
                     shared=lambda: None)
    orders_upsert(shop=world.shops["us"], turn=turn, orders=[
        Spec("us", "U30", utc(2025, 3, 27, 8), "paid", [("MUG", 1, 30)], "b1").data(),
        Spec("us", "U31", utc(2025, 3, 27, 9), "paid", [("MUG", 1, 30)], "b7").data(),
    ])
    b7 = Customer.objects.get(platform_buyer_id="b7")
    assert {"U30"} <= marked() and "U31" not in marked()
    assert sorted(checked) == sorted([b1.pk, b7.pk])
    # b1 had two or more counted orders (their row says so); b7 is new, with one.
    assert (handed[0][b1.pk], handed[0][b7.pk]) == (3, 1)
    assert_single_figures_kept()


def test_a_flag_written_from_a_stale_count_is_corrected_with_the_rollups(world):
    """A batch pipelined behind another takes its buyers' counts from it; when those were wrong
    (another transaction cancelled an order meanwhile), the flag check after the insert puts the
    new order, its buyer and its day's single-buyer figures right."""
    b4 = Customer.objects.get(platform_buyer_id="b4")  # their only order, U5, is cancelled
    turn = BatchTurn(known_customers={("id", "b4"): b4.pk}, resolved=lambda customers, counted: None,
                     shared=lambda: None, known_counted={b4.pk: 2})
    orders_upsert(shop=world.shops["us"], turn=turn, orders=[
        Spec("us", "U32", utc(2025, 3, 27, 8), "paid", [("MUG", 1, 30)], "b4").data(),
    ])
    assert "U32" not in marked()
    b4.refresh_from_db()
    assert not b4.repeat_buyer
    assert_single_figures_kept()


def test_a_pipelined_batch_runs_its_own_foreign_key_checks_before_waiting_for_the_batch_before(world, monkeypatch):
    """The checks of the batch's rows run while the batch before may still be storing; only those of
    its orders' buyers (possibly created by that batch, not committed yet) wait for the commit."""
    from apps.sales.ingest import upsert

    steps: list = []
    monkeypatch.setattr(upsert, "deferred_checks_run", lambda *, keep_deferred: steps.append(
        ("checks", [(field.model, field.name) for field in keep_deferred])))
    turn = BatchTurn(known_customers={}, resolved=lambda customers, counted: None,
                     shared=lambda: steps.append("shared"))
    orders_upsert(shop=world.shops["us"], turn=turn, orders=[
        Spec("us", "U40", utc(2025, 3, 27, 8), "paid", [("MUG", 1, 30)], "b9").data(),
    ])
    assert steps[:2] == [("checks", [(Order, "customer")]), "shared"]
