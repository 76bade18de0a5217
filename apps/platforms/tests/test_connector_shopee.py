"""The Shopee v2 connector against the local Shopee-contract server, over real HTTP: signed requests,
HTTP 200 error bodies, 15-day windows with cursor paging, token refresh with rotating tokens."""
import datetime as dt
import hashlib
import hmac
import math
import time
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from apps.platforms import collection
from apps.platforms.connectors import shopee as connector_module
from apps.platforms.connectors.base import ShopContext
from apps.platforms.connectors.errors import CleaningError
from apps.platforms.models import CollectionRun, Listing, QuarantinedRecord, Shop
from apps.platforms.sandbox.core import LeakyBucket
from apps.platforms.sandbox.shopee import ShopeeHandler, expire_access_token, order_sn
from apps.sales.models import Order

from .sandbox_support import START, run, sandbox_shop, window

pytestmark = pytest.mark.django_db
CREDENTIALS = {"partner_id": 2001234, "partner_key": "shpk-sandbox-4f3c2b1a", "shop_id": 55501234,
               "access_token": "access-0", "refresh_token": "refresh-0"}
END = START + dt.timedelta(days=30)
CHUNK_END = START + dt.timedelta(days=15)
WEEK = START + dt.timedelta(days=7)  # one window: one list call per page


def shopee(orders=0, *, spread: dt.timedelta | None = None, credentials=None, **kwargs):
    """A Shopee shop; `spread` spaces the orders that far apart (to span several 15-day windows)."""
    context = sandbox_shop(ShopeeHandler, "shopee", credentials=credentials or dict(CREDENTIALS), currency="SGD",
                           orders=0 if spread else orders, **kwargs)
    if spread is None:
        return context

    class Spread:
        def __enter__(self):
            shop, state = context.__enter__()
            state.book.add(orders, spacing=spread)
            return shop, state

        def __exit__(self, *exc):
            return context.__exit__(*exc)

    return Spread()


def calls(state, path):
    return [r for r in state.requests if urlsplit(r.split(" ", 1)[1]).path == f"/api/v2/{path}"]


def params(request: str) -> dict:
    return {k: v[-1] for k, v in parse_qs(urlsplit(request.split(" ", 1)[1]).query, keep_blank_values=True).items()}


def pages_for(orders, since, until) -> int:
    """Pages the connector should take: per ≤15-day chunk ceil(n / 100), an empty chunk is one page."""
    pages, moment = 0, since
    while moment < until:
        stop = min(moment + dt.timedelta(days=15), until)
        n = sum(1 for o in orders if moment <= o.updated_at < stop)
        pages += max(1, math.ceil(n / 100))
        moment = stop
    return pages


def test_a_full_pull_walks_every_15_day_window_and_cursor_page_and_stores_every_order():
    with shopee(orders=300, spread=dt.timedelta(hours=2)) as (shop, state):
        in_first = sum(1 for o in state.book.orders if o.updated_at < CHUNK_END)
        assert 100 < in_first < 200 and 300 - in_first > 100  # two pages in each of the two windows
        result = run(shop, **window(START, END))
        assert result.status == "succeeded", result.error
        assert (result.pages, result.records_seen, result.records_created) == (4, 300, 300)
        assert Order.objects.filter(shop=shop).count() == 300
        lists = [params(r) for r in calls(state, "order/get_order_list")]
        assert len(lists) == 4
        assert all(p["time_range_field"] == "update_time" and p["page_size"] == "100" for p in lists)
        assert all(int(p["time_to"]) - int(p["time_from"]) <= 15 * 86400 for p in lists)
        assert [p["cursor"] == "" for p in lists] == [True, False, True, False]
        assert lists[0]["time_from"] == str(int(START.timestamp()))
        assert int(lists[2]["time_from"]) == int(lists[0]["time_to"]) + 1 == int(CHUNK_END.timestamp())
        details = [params(r)["order_sn_list"].split(",") for r in calls(state, "order/get_order_detail")]
        assert max(len(d) for d in details) == 50 and sum(len(d) for d in details) == 300
        assert all(set(p) >= {"partner_id", "timestamp", "access_token", "shop_id", "sign"} for p in lists)


def test_orders_are_cleaned_into_our_terms():
    with shopee(orders=12) as (shop, state):
        result = run(shop, **window(START, END))
        assert result.status == "succeeded", result.error
        canonical = state.book.orders[0]
        order = Order.objects.get(shop=shop, platform_order_id=order_sn(canonical))
        assert order.total_amount == canonical.total and isinstance(order.total_amount, Decimal)
        assert order.currency_id == "SGD" and order.buyer_country == canonical.country
        assert order.ordered_at == canonical.created_at
        assert sorted(order.lines.values_list("platform_sku", flat=True)) == sorted(l.sku for l in canonical.lines)
        statuses = dict(Order.objects.filter(shop=shop).values_list("platform_status", "status").distinct())
        expected = {"UNPAID": "pending", "READY_TO_SHIP": "paid", "PROCESSED": "paid", "SHIPPED": "shipped",
                    "CANCELLED": "cancelled"}
        assert statuses and all(expected[raw] == ours for raw, ours in statuses.items())


@pytest.mark.parametrize("raw, ours", [
    ("UNPAID", "pending"), ("READY_TO_SHIP", "paid"), ("PROCESSED", "paid"), ("INVOICE_PENDING", "paid"),
    ("IN_CANCEL", "paid"), ("SHIPPED", "shipped"), ("COMPLETED", "delivered"), ("CANCELLED", "cancelled"),
])
def test_every_documented_status_maps_and_the_raw_status_is_kept(raw, ours):
    collector = connector_module.ShopeeCollector(ShopContext(shop_id=1, base_url="http://x", credentials={}))
    record = {"order_sn": "250301ABC", "currency": "myr", "total_amount": 0.3, "order_status": raw,
              "create_time": 1740787200, "update_time": 1740790800, "pay_time": 0,
              "recipient_address": {"region": "my"}, "buyer_username": "ann",
              "item_list": [{"item_id": 1, "model_id": 2, "item_sku": "PARENT", "model_sku": "CHILD",
                             "model_quantity_purchased": 3, "model_discounted_price": 0.1},
                            {"item_id": 5, "model_id": 0, "item_sku": "PLAIN", "model_sku": "",
                             "model_quantity_purchased": 1, "model_discounted_price": 1.1}]}
    data = collector.normalize_order(record)
    assert (data.status, data.platform_status) == (ours, raw)
    assert data.total_amount == Decimal("0.30") and data.currency == "MYR" and data.buyer_country == "MY"
    assert [(l.platform_sku, l.line_total) for l in data.lines] == [("CHILD", Decimal("0.30")), ("PLAIN", Decimal("1.10"))]
    assert data.paid_at is None and data.ordered_at == dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    with pytest.raises(CleaningError):
        collector.normalize_order({**record, "order_status": "SOMETHING_NEW"})


def test_an_incremental_pull_takes_only_what_changed_since_the_last_run():
    with shopee(orders=30) as (shop, state):
        cut = START + dt.timedelta(hours=3)
        in_first = [o for o in state.book.orders if o.updated_at < cut]
        first = run(shop, **window(START, cut))
        assert first.status == "succeeded", first.error
        assert first.records_created == len(in_first) < 30
        cancelled = next(o for o in in_first if o.state != "cancelled")
        state.book.change(cancelled.number, state="cancelled", at=cut + dt.timedelta(hours=2))
        second = run(shop)  # from the last success minus the overlap, to now: many 15-day windows
        assert second.status == "succeeded", second.error
        assert second.window_start == first.window_end - dt.timedelta(minutes=10)
        assert (second.records_created, second.records_updated) == (30 - len(in_first), 1)
        order = Order.objects.get(shop=shop, platform_order_id=order_sn(cancelled))
        assert (order.status, order.platform_status) == ("cancelled", "CANCELLED")
        second_lists = [params(r) for r in calls(state, "order/get_order_list")][1:]
        assert len(second_lists) > 2 and second_lists[0]["time_from"] == str(int(second.window_start.timestamp()))


def test_the_same_data_twice_changes_nothing():
    with shopee(orders=140, spread=dt.timedelta(hours=4)) as (shop, state):
        first = run(shop, **window(START, END))
        again = run(shop, **window(START, END))
        assert again.status == "succeeded", again.error
        assert (again.records_seen, again.records_created, again.records_updated) == (140, 0, 0)
        assert first.pages == again.pages == pages_for(state.book.orders, START, END)
        assert Order.objects.filter(shop=shop).count() == 140


def test_an_expired_token_is_refreshed_once_and_both_new_tokens_are_stored():
    with shopee(orders=150) as (shop, state):
        expire_access_token(state)  # the shop's access-0 has expired
        result = run(shop, **window(START, END))
        assert result.status == "succeeded", result.error
        assert result.records_created == 150
        refreshes = calls(state, "auth/access_token/get")
        assert len(refreshes) == 1 and refreshes[0].startswith("POST")
        assert set(params(refreshes[0])) == {"partner_id", "timestamp", "sign"}
        stored = Shop.objects.get(pk=shop.pk).credentials
        assert stored["access_token"] == state.credentials["access_token"] != "access-0"
        assert stored["refresh_token"] == state.credentials["refresh_token"] != "refresh-0"
        assert stored["partner_key"] == CREDENTIALS["partner_key"] and stored["token_expires_at"] > time.time()
        again = run(shop, **window(START, END))  # the stored tokens work: no second refresh
        assert again.status == "succeeded" and len(calls(state, "auth/access_token/get")) == 1


def test_rotated_tokens_are_kept_even_when_the_run_fails_after_the_refresh(monkeypatch):
    with shopee(orders=5) as (shop, state):
        expire_access_token(state)
        monkeypatch.setattr(connector_module, "MAX_WINDOW", dt.timedelta(days=20))  # refused after the refresh
        failed = run(shop, **window(START, END))
        assert failed.status == "failed" and "15 days" in failed.error
        stored = Shop.objects.get(pk=shop.pk).credentials
        assert stored["refresh_token"] == state.credentials["refresh_token"] != "refresh-0"  # old one is dead
        monkeypatch.undo()
        again = run(shop, **window(START, END))
        assert again.status == "succeeded", again.error
        assert again.records_created == 5 and len(calls(state, "auth/access_token/get")) == 1


@pytest.mark.parametrize("status", [200, 403])
def test_a_refused_token_in_an_error_body_is_refreshed_whatever_the_http_status(status):
    with shopee(orders=5, server_credentials={**CREDENTIALS, "access_token": "issued-elsewhere"}) as (shop, state):
        state.extra["auth_error_status"] = status
        result = run(shop, **window(START, END))
        assert result.status == "succeeded", result.error
        assert Shop.objects.get(pk=shop.pk).credentials["access_token"] == state.credentials["access_token"]


def test_a_bad_refresh_token_fails_the_run_and_marks_the_shop_for_reauthorisation():
    with shopee(orders=5, server_credentials={**CREDENTIALS, "refresh_token": "rotated-away"}) as (shop, state):
        expire_access_token(state)
        result = run(shop, **window(START, END))
        assert result.status == "failed" and "重新授权" in result.error and "refresh_token" in result.error
        assert Shop.objects.get(pk=shop.pk).auth_status == Shop.AuthStatus.NEEDS_REAUTH
        assert len(calls(state, "auth/access_token/get")) == 1 and not Order.objects.exists()


def test_requests_are_signed_and_a_wrong_partner_key_is_refused_with_the_sign_error():
    with shopee(orders=3) as (shop, state):
        assert run(shop, **window(START, END)).status == "succeeded"
        request = calls(state, "order/get_order_list")[0]
        p = params(request)
        base = f"{p['partner_id']}/api/v2/order/get_order_list{p['timestamp']}{p['access_token']}{p['shop_id']}"
        expected = hmac.new(CREDENTIALS["partner_key"].encode(), base.encode(), hashlib.sha256).hexdigest()
        assert p["sign"] == expected and abs(int(p["timestamp"]) - time.time()) < 60
    with shopee(orders=3, credentials={**CREDENTIALS, "partner_key": "not-the-key"},
                server_credentials=dict(CREDENTIALS)) as (shop, state):
        result = run(shop, **window(START, END))
        assert result.status == "failed" and "error_sign" in result.error and "partner_key" in result.error
        assert Shop.objects.get(pk=shop.pk).auth_status == Shop.AuthStatus.NEEDS_REAUTH
        assert not calls(state, "auth/access_token/get")  # a new token cannot fix a wrong key


def test_a_stale_timestamp_is_refused_by_the_server(monkeypatch):
    with shopee(orders=3) as (shop, state):
        monkeypatch.setattr(connector_module, "_now", lambda: int(time.time()) - 600)
        result = run(shop, **window(START, END))
        assert result.status == "failed" and "Invalid timestamp" in result.error


@pytest.mark.parametrize("error", ["error_param", "error_data"])
def test_an_http_200_with_error_set_fails_the_run_and_is_not_an_empty_page(error):
    with shopee(orders=5) as (shop, state):
        state.extra["body_faults"] = [error]
        result = run(shop, **window(START, END))
        assert result.status == "failed" and error in result.error and "HTTP 200" in result.error
        assert result.pages == 0 and not Order.objects.exists()
        assert Shop.objects.get(pk=shop.pk).auth_status != Shop.AuthStatus.NEEDS_REAUTH


def test_the_server_refuses_a_window_longer_than_15_days(monkeypatch):
    with shopee(orders=5) as (shop, state):
        monkeypatch.setattr(connector_module, "MAX_WINDOW", dt.timedelta(days=20))
        result = run(shop, **window(START, END))
        assert result.status == "failed" and "15 days" in result.error and not Order.objects.exists()


@pytest.mark.parametrize("faults, body_faults", [
    ([429], []), ([500], []), ([503, 502], []), ([429, 500, 429], []),
    ([], ["error_too_many_request"]), ([], ["error_server", "error_too_many_request"]),
])
def test_rate_limits_and_server_errors_are_retried_until_success(faults, body_faults):
    with shopee(orders=5) as (shop, state):
        state.faults, state.extra["body_faults"] = list(faults), list(body_faults)
        result = run(shop, **window(START, WEEK))
        assert result.status == "succeeded", result.error
        assert result.records_created == 5
        assert len(calls(state, "order/get_order_list")) == 1 + len(faults) + len(body_faults)


@pytest.mark.parametrize("throttle_status", [429, 200])
def test_the_rate_limiter_is_honoured_whether_it_answers_429_or_200(throttle_status, monkeypatch):
    with shopee(orders=60) as (shop, state):
        state.limiter = LeakyBucket(capacity=2, leak_per_second=50)
        state.extra["throttle_status"] = throttle_status
        monkeypatch.setattr(connector_module, "PAGE_SIZE", 10)
        result = run(shop, **window(START, WEEK))
        assert result.status == "succeeded", result.error
        assert result.records_created == 60 and result.pages == 6


def test_persistent_server_errors_fail_the_run_with_the_reason():
    with shopee(orders=5) as (shop, state):
        state.faults = [500] * 10
        result = run(shop, **window(START, END))
        assert result.status == "failed" and "HTTP 500" in result.error
        assert not Order.objects.exists()


def test_a_malformed_record_is_quarantined_and_the_run_goes_on():
    with shopee(orders=10) as (shop, state):
        state.book.orders[3].malformed = True
        result = run(shop, **window(START, END))
        assert result.status == "succeeded", result.error
        assert (result.records_created, result.records_quarantined) == (9, 1)
        bad = QuarantinedRecord.objects.get()
        assert bad.payload["total_amount"] == "abc" and bad.reason
        assert bad.external_id == order_sn(state.book.orders[3])


@pytest.mark.parametrize("killed_after", [2, 3])
def test_a_run_killed_after_page_k_resumes_at_k_plus_1_in_the_right_window_and_stores_each_order_once(
        killed_after, monkeypatch):
    with shopee(orders=300, spread=dt.timedelta(hours=2)) as (shop, state):
        in_first = sum(1 for o in state.book.orders if o.updated_at < CHUNK_END)
        real_store = collection._store_order_page
        pages_done = []

        def dying_store(*args, **kwargs):
            if len(pages_done) == killed_after:
                raise KeyboardInterrupt("worker killed")  # not an Exception: nothing marks the run
            stored = real_store(*args, **kwargs)
            pages_done.append(1)
            return stored

        monkeypatch.setattr(collection, "_store_order_page", dying_store)
        with pytest.raises(KeyboardInterrupt):
            run(shop, **window(START, END))
        killed = CollectionRun.objects.get()
        assert killed.status == "running" and killed.pages == killed_after
        assert killed.checkpoint["time_from"] == int(CHUNK_END.timestamp())  # both kills stop in window 2
        assert bool(killed.checkpoint["cursor"]) == (killed_after == 3)
        stored = Order.objects.count()
        assert stored == (in_first if killed_after == 2 else in_first + 100)

        monkeypatch.setattr(collection, "_store_order_page", real_store)
        lists_before = len(calls(state, "order/get_order_list"))
        CollectionRun.objects.filter(pk=killed.pk).update(heartbeat_at=killed.heartbeat_at - dt.timedelta(hours=1))
        assert collection.collection_runs_reap() == [killed.pk]
        resumed = collection.collection_run_execute(run_id=killed.pk)
        assert resumed.status == "succeeded", resumed.error
        assert Order.objects.count() == 300
        assert resumed.records_created == 300 and resumed.records_seen == 300  # nothing collected twice
        assert len(calls(state, "order/get_order_list")) - lists_before == 4 - killed_after


def test_products_and_stock_come_from_items_and_their_models():
    stock = {f"SB-{n:03d}": n * 3 for n in range(1, 13)}
    with shopee() as (shop, state):
        state.stock = dict(stock)
        products = run(shop, "products")
        assert products.status == "succeeded", products.error
        listings = {item.platform_sku: item for item in Listing.objects.filter(shop=shop)}
        assert set(listings) == set(stock)
        assert all(listings[sku].platform_stock == qty and listings[sku].price == Decimal("19.90")
                   for sku, qty in stock.items())
        assert calls(state, "product/get_model_list") and calls(state, "product/get_item_base_info")
        state.stock["SB-001"] = 99
        inventory = run(shop, "inventory")
        assert inventory.status == "succeeded", inventory.error
        assert Listing.objects.get(shop=shop, platform_sku="SB-001").platform_stock == 99


def test_test_connection_checks_the_credentials():
    with shopee() as (shop, state):
        assert collection.shop_test_connection(shop=shop) == (True, "Sandbox Shopee shop")
        expire_access_token(state)  # a check with an expired token refreshes it
        assert collection.shop_test_connection(shop=shop) == (True, "Sandbox Shopee shop")
        assert Shop.objects.get(pk=shop.pk).credentials["access_token"] == state.credentials["access_token"]
    with shopee(server_credentials={**CREDENTIALS, "partner_key": "other"}) as (shop, state):
        ok, message = collection.shop_test_connection(shop=shop)
        assert not ok and "error_sign" in message
        assert Shop.objects.get(pk=shop.pk).auth_status == Shop.AuthStatus.NEEDS_REAUTH
