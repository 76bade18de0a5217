"""A run that grows the order tables past what the planner knows analyses them itself (PostgreSQL)."""
import datetime as dt
import threading

import pytest
from django.db import DatabaseError, connection

from apps.platforms.sandbox.shopify import ShopifyHandler
from apps.platforms.tests.sandbox_support import START, run, sandbox_shop, window
from apps.sales.ingest import statistics
from apps.sales.ingest.statistics import GrowthWatch, tables_analyze
from apps.sales.models import Customer, Order, OrderLine
from apps.sales.tests.factories import OrderFactory, OrderLineFactory

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="planner statistics of PostgreSQL")


def planner_rows(model) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table])
        return int(cursor.fetchone()[0])


def orders(count: int) -> None:
    for _ in range(count):
        OrderLineFactory(order=OrderFactory())


@pytest.mark.django_db
def test_the_tables_are_analysed_each_time_a_run_has_written_as_many_orders_as_the_planner_knew(monkeypatch):
    monkeypatch.setattr(statistics, "MIN_ORDERS", 4)
    tables_analyze()  # the planner knows the tables as this test sees them: empty
    assert planner_rows(Order) == 0
    watch = GrowthWatch()

    orders(3)
    watch.written(3)
    assert (watch.analyses, planner_rows(Order)) == (0, 0)  # 3 < MIN_ORDERS

    orders(2)
    watch.written(2)
    assert watch.analyses == 1
    assert (planner_rows(Order), planner_rows(OrderLine)) == (5, 5)
    assert planner_rows(Customer) == Customer.objects.count()

    orders(4)
    watch.written(4)
    assert (watch.analyses, planner_rows(Order)) == (1, 5)  # 4 more on a table the planner knows at 5: not yet
    orders(1)
    watch.written(1)
    assert (watch.analyses, planner_rows(Order)) == (2, 10)
    watch.written(0)
    assert watch.analyses == 2


@pytest.mark.django_db
def test_a_large_table_is_left_to_autovacuum(monkeypatch):
    monkeypatch.setattr(statistics, "MIN_ORDERS", 2)
    orders(6)
    tables_analyze()
    watch = GrowthWatch()
    orders(5)
    watch.written(5)  # fewer than the 6 the planner knows of
    assert (watch.analyses, planner_rows(Order)) == (0, 6)


@pytest.mark.django_db
def test_a_failed_analyze_does_not_fail_the_caller(monkeypatch, caplog):
    def refused():
        raise DatabaseError("permission denied for table orders")

    tables_analyze()  # known: 0 orders
    monkeypatch.setattr(statistics, "MIN_ORDERS", 1)
    monkeypatch.setattr(statistics, "tables_analyze", refused)
    watch = GrowthWatch()
    watch.written(1)
    assert watch.analyses == 1
    assert "ANALYZE of the order tables failed" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_first_collection_into_empty_tables_analyses_them_as_it_grows_them(monkeypatch):
    real_analyze, analysed_by = statistics.tables_analyze, []

    def counted():
        real_analyze()
        analysed_by.append((threading.current_thread().name, planner_rows(Order)))

    monkeypatch.setattr(statistics, "MIN_ORDERS", 300)
    monkeypatch.setattr(statistics, "tables_analyze", counted)
    with sandbox_shop(ShopifyHandler, "shopify", credentials={"access_token": "shpat_sandbox_123"},
                      orders=1000) as (shop, _):
        real_analyze()
        assert planner_rows(Order) == 0
        result = run(shop, **window(START, START + dt.timedelta(days=30)))
    assert (result.status, result.pages, result.records_created) == ("succeeded", 4, 1000)
    # Pages of 250: at 500 orders (≥ 300) and at 1,000 (500 more than the 500 known), each after
    # its page committed, on the pipeline's threads.
    assert [rows for _, rows in analysed_by] == [500, 1000]
    assert all(name.startswith(f"collect-store-{shop.pk}-") for name, _ in analysed_by)
    assert planner_rows(Order) == 1000


@pytest.mark.django_db
def test_the_planned_columns_are_analysed_and_every_table_is_counted():
    orders(3)
    tables_analyze()
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename, attname FROM pg_stats WHERE tablename IN ('orders', 'order_lines')")
        analysed = set(cursor.fetchall())
    assert {("orders", "ordered_at"), ("orders", "shop_id"), ("orders", "status"),
            ("order_lines", "order_id"), ("order_lines", "product_id")} <= analysed
    assert (planner_rows(Order), planner_rows(OrderLine)) == (3, 3)
