"""Order pages stored two at a time (PostgreSQL, outside a transaction): the same data as one page
at a time, pages committing in order, and a failure rolling back the page after it."""
import dataclasses
import datetime as dt
import itertools
import threading
import time
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.db.models import Count, Sum

from apps.finance.models import FinancialRecord
from apps.platforms import collection
from apps.platforms.models import CollectionRun
from apps.platforms.sandbox.shopify import ShopifyHandler
from apps.platforms.tests.factories import ListingFactory, ShopFactory
from apps.sales.ingest import CustomerData, LineData, OrderData
from apps.sales.models import Customer, Order, SalesDaily
from apps.sales.services import sales_rollups_rebuild

from .sandbox_support import START, rates_for, run, sandbox_shop, window

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="pages are pipelined on PostgreSQL only"),
]
TOKEN = {"access_token": "shpat_sandbox_123"}
END = START + dt.timedelta(days=30)


def stored(shop) -> dict:
    """What a run left for the shop, in terms that do not depend on ids or on the order of writes."""
    orders = {
        o.platform_order_id: (o.status, o.total_amount_base, o.customer.platform_buyer_id, o.customer.email,
                              tuple(sorted((line.platform_sku, line.quantity) for line in o.lines.all())))
        for o in Order.objects.filter(shop=shop).select_related("customer").prefetch_related("lines")
    }
    customers = sorted(Customer.objects.filter(shop=shop).values_list("platform_buyer_id", "email", "first_ordered_at"))
    rollups = sorted(SalesDaily.objects.filter(shop=shop).values_list("date", "buyer_country", "orders_count", "units",
                                                                       "gross_sales_base", "cogs_base"))
    records = FinancialRecord.objects.filter(shop=shop).aggregate(n=Count("id"), total=Sum("amount_base"))
    return {"orders": orders, "customers": customers, "rollups": rollups, "records": records}


def rebuilt_rollups(shop) -> list:
    sales_rollups_rebuild(start=dt.date(2025, 2, 1), end=dt.date(2025, 5, 1), shop_ids=[shop.pk])
    return sorted(SalesDaily.objects.filter(shop=shop).values_list("date", "buyer_country", "orders_count", "units",
                                                                    "gross_sales_base", "cogs_base"))


class StoreLog:
    """Records when each page's store began and ended, and on which thread."""

    def __init__(self, monkeypatch):
        self.spans: list[tuple[float, float, str]] = []
        real = collection._store_order_page

        def logged(*args, **kwargs):
            began = time.monotonic()
            result = real(*args, **kwargs)
            self.spans.append((began, time.monotonic(), threading.current_thread().name))
            return result

        monkeypatch.setattr(collection, "_store_order_page", logged)

    def overlapped(self) -> bool:
        spans = sorted(self.spans)
        return any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:]))


def test_pipelined_pages_store_exactly_what_one_page_at_a_time_stores(monkeypatch):
    log = StoreLog(monkeypatch)
    with sandbox_shop(ShopifyHandler, "shopify", credentials=TOKEN, orders=1000) as (shop, state):
        pipelined = run(shop, **window(START, END))
        assert pipelined.status == "succeeded", pipelined.error
        assert (pipelined.pages, pipelined.records_created) == (4, 1000)
        assert log.overlapped(), "page k+1 was never stored while page k was"
        assert {name for _, _, name in log.spans} == {f"collect-store-{shop.pk}-0", f"collect-store-{shop.pk}-1"}
        piped = stored(shop)

        with monkeypatch.context() as serial:
            serial.setattr(collection.OrderPagePipeline, "usable", staticmethod(lambda: False))
            other = ShopFactory(platform=shop.platform, currency=shop.currency, api_base_url=shop.api_base_url,
                                credentials=TOKEN)
            one_at_a_time = run(other, **window(START, END))
        assert one_at_a_time.status == "succeeded", one_at_a_time.error
        assert stored(other) == piped

    # Buyers recur from page to page (the book reuses them): each is still one customer.
    buyers = {order.buyer_id for order in state.book.orders}
    assert len(piped["customers"]) == len(buyers) < 1000
    assert piped["rollups"] == rebuilt_rollups(shop)


def test_a_failed_page_rolls_back_the_page_after_it_and_the_next_run_stores_each_order_once(monkeypatch):
    real_upsert = collection.orders_upsert
    calls = itertools.count(1)

    def second_page_fails(**kwargs):
        result = real_upsert(**kwargs)  # its writes are done (and its buyers handed on) when it fails
        if next(calls) == 2:
            raise RuntimeError("page 2 broke")
        return result

    with sandbox_shop(ShopifyHandler, "shopify", credentials=TOKEN, orders=1000) as (shop, state):
        monkeypatch.setattr(collection, "orders_upsert", second_page_fails)
        failed = run(shop, **window(START, END))
        assert failed.status == "failed" and "page 2 broke" in failed.error
        assert failed.pages == 1 and failed.checkpoint["next_url"]
        assert Order.objects.filter(shop=shop).count() == 250  # page 3, stored alongside, was rolled back
        assert CollectionRun.objects.get(pk=failed.pk).records_created == 250

        monkeypatch.setattr(collection, "orders_upsert", real_upsert)
        resumed = run(shop)
        assert resumed.status == "succeeded", resumed.error
        assert (resumed.window_start, resumed.window_end) == (START, END)
        assert resumed.records_created == 750
        assert Order.objects.filter(shop=shop).count() == 1000
        assert len(stored(shop)["customers"]) == len({order.buyer_id for order in state.book.orders})
        assert stored(shop)["rollups"] == rebuilt_rollups(shop)


def _order(pid: str, *, status: str, updated: dt.datetime, email: str) -> OrderData:
    total = Decimal("30.00")
    when = dt.datetime(2025, 3, 2, 4, 0, tzinfo=dt.UTC)
    return OrderData(
        platform_order_id=pid, order_number=f"#{pid}", ordered_at=when, currency="USD", status=status,
        platform_status=status, buyer_country="us", items_amount=total, total_amount=total,
        platform_updated_at=updated, customer=CustomerData(email=email, name="Ann"),
        lines=[LineData(platform_sku="MUG", quantity=1, unit_price=total, line_total=total, platform_line_id=f"{pid}-1")],
    )


def test_a_page_takes_the_buyers_of_the_page_before_and_waits_for_an_order_it_repeats(monkeypatch):
    rates_for("USD")
    shop = ShopFactory(currency_id="USD")
    ListingFactory(shop=shop, platform_sku="MUG")  # no page creates a listing (the second would wait on its key)
    run_row = CollectionRun.objects.create(shop=shop, kind="orders", status=CollectionRun.Status.RUNNING)
    early = dt.datetime(2025, 3, 2, 5, 0, tzinfo=dt.UTC)
    pages = [
        [_order("A", status="paid", updated=early, email="ann@example.com"),
         _order("B", status="paid", updated=early, email="bob@example.com")],
        # Ann again, known by e-mail alone: no unique key would stop a second row for her
        [_order("C", status="paid", updated=early, email="ann@example.com"),
         _order("D", status="paid", updated=early, email="cat@example.com")],
        # C again, shipped since
        [_order("C", status="shipped", updated=early + dt.timedelta(hours=1), email="ann@example.com")],
    ]
    # Page 1 commits only once page 2 has found its buyers: Ann is not committed when page 2 needs her.
    real_upsert, calls, page_2_resolved = collection.orders_upsert, itertools.count(1), threading.Event()

    def upsert(**kwargs):
        number = next(calls)
        if number == 2:
            turn = kwargs["turn"]
            kwargs["turn"] = dataclasses.replace(
                turn, resolved=lambda customers, counted: (turn.resolved(customers, counted), page_2_resolved.set()))
        result = real_upsert(**kwargs)
        if number == 1:
            assert page_2_resolved.wait(timeout=10)
        return result

    monkeypatch.setattr(collection, "orders_upsert", upsert)
    connector = SimpleNamespace(take_updated_credentials=lambda: None)  # all a page's store asks of it
    with collection.OrderPagePipeline(run_row, shop, connector) as pipeline:
        for number, orders in enumerate(pages, start=1):
            pipeline.store(collection.CleanedPage(records=[{}] * len(orders), orders=orders, rejected=[],
                                                  next_checkpoint={"page": number + 1}))
    run_row.refresh_from_db()
    assert (run_row.pages, run_row.records_seen, run_row.checkpoint) == (3, 5, {"page": 4})
    assert dict(Order.objects.filter(shop=shop).values_list("platform_order_id", "status")) == {
        "A": "paid", "B": "paid", "C": "shipped", "D": "paid"}
    assert sorted(Customer.objects.filter(shop=shop).values_list("email", flat=True)) == [
        "ann@example.com", "bob@example.com", "cat@example.com"]
    assert Order.objects.filter(shop=shop, customer__email="ann@example.com").count() == 2
