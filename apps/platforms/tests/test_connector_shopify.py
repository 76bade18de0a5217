"""The Shopify connector against the local Shopify-contract server, over real HTTP."""
import datetime as dt
import threading
import time

import pytest

from apps.platforms import collection
from apps.platforms.models import CollectionRun, QuarantinedRecord, Shop
from apps.platforms.sandbox.core import LeakyBucket
from apps.platforms.sandbox.shopify import ShopifyHandler
from apps.sales.models import Order

from .sandbox_support import START, run, sandbox_shop, window

pytestmark = pytest.mark.django_db
TOKEN = {"access_token": "shpat_sandbox_123"}
END = START + dt.timedelta(days=30)


def shopify(orders=0, **kwargs):
    return sandbox_shop(ShopifyHandler, "shopify", credentials=TOKEN, orders=orders, **kwargs)


def order_requests(state):
    return [r for r in state.requests if "/orders.json" in r]


def test_a_full_pull_follows_link_pages_and_stores_every_order():
    with shopify(orders=600) as (shop, state):
        result = run(shop, **window(START, END))
        assert result.status == "succeeded", result.error
        assert (result.pages, result.records_seen, result.records_created) == (3, 600, 600)
        assert Order.objects.filter(shop=shop).count() == 600
        pages = order_requests(state)
        assert "status=any" in pages[0] and "updated_at_min=" in pages[0]
        assert all("page_info=" in r and "status=" not in r for r in pages[1:])


def test_an_incremental_pull_takes_only_what_changed_since_the_last_run():
    with shopify(orders=30) as (shop, state):
        cut = START + dt.timedelta(hours=3)
        in_first = [o for o in state.book.orders if o.updated_at < cut]
        first = run(shop, **window(START, cut))
        assert first.records_created == len(in_first) < 30
        refunded = in_first[0]
        state.book.change(refunded.number, state="refunded", refunded=refunded.total, at=cut + dt.timedelta(hours=2))
        second = run(shop)  # window from the last success minus the overlap, to now
        assert second.status == "succeeded", second.error
        assert second.window_start == first.window_end - dt.timedelta(minutes=10)
        assert (second.records_created, second.records_updated) == (30 - len(in_first), 1)
        assert Order.objects.get(shop=shop, order_number=f"#{refunded.number}").status == "refunded"


def test_the_same_data_twice_changes_nothing():
    with shopify(orders=40) as (shop, state):
        run(shop, **window(START, END))
        again = run(shop, **window(START, END))
        assert (again.records_seen, again.records_created, again.records_updated) == (40, 0, 0)
        assert Order.objects.filter(shop=shop).count() == 40


@pytest.mark.parametrize("faults", [[429], [500], [503, 502], [429, 500, 429]])
def test_rate_limits_and_server_errors_are_retried_until_success(faults):
    with shopify(orders=5) as (shop, state):
        state.faults = list(faults)
        result = run(shop, **window(START, END))
        assert result.status == "succeeded", result.error
        assert result.records_created == 5
        assert len(order_requests(state)) == 1 + len(faults)


def test_the_leaky_bucket_429s_with_retry_after_are_honoured():
    with shopify(orders=30) as (shop, state):
        state.limiter = LeakyBucket(capacity=2, leak_per_second=50)
        import apps.platforms.connectors.shopify as module

        original = module.PAGE_SIZE
        module.PAGE_SIZE = 5
        try:
            result = run(shop, **window(START, END))
        finally:
            module.PAGE_SIZE = original
        assert result.status == "succeeded", result.error
        assert result.records_created == 30


def test_persistent_server_errors_fail_the_run_with_the_reason():
    with shopify(orders=5) as (shop, state):
        state.faults = [500] * 10
        result = run(shop, **window(START, END))
        assert result.status == "failed" and "HTTP 500" in result.error
        assert not Order.objects.exists()


def test_an_auth_failure_ends_the_run_and_marks_the_shop_for_reauthorisation():
    with shopify(orders=5, server_credentials={"access_token": "other"}) as (shop, state):
        result = run(shop, **window(START, END))
        assert result.status == "failed" and "重新授权" in result.error
        assert Shop.objects.get(pk=shop.pk).auth_status == Shop.AuthStatus.NEEDS_REAUTH


def test_a_malformed_record_is_quarantined_and_the_run_goes_on():
    with shopify(orders=10) as (shop, state):
        state.book.orders[3].malformed = True
        result = run(shop, **window(START, END))
        assert result.status == "succeeded"
        assert (result.records_created, result.records_quarantined) == (9, 1)
        bad = QuarantinedRecord.objects.get()
        assert bad.payload["total_price"] == "abc" and bad.reason


def test_a_run_killed_after_page_k_resumes_at_k_plus_1_and_stores_each_order_once(monkeypatch):
    with shopify(orders=600) as (shop, state):
        real_store = collection._store_order_page
        pages_done = []

        def dying_store(*args, **kwargs):
            if len(pages_done) == 2:
                raise KeyboardInterrupt("worker killed")  # not an Exception: nothing marks the run
            stored = real_store(*args, **kwargs)
            pages_done.append(1)
            return stored

        monkeypatch.setattr(collection, "_store_order_page", dying_store)
        with pytest.raises(KeyboardInterrupt):
            run(shop, **window(START, END))
        killed = CollectionRun.objects.get()
        assert killed.status == "running" and killed.pages == 2 and killed.checkpoint["next_url"]
        assert Order.objects.count() == 500

        monkeypatch.setattr(collection, "_store_order_page", real_store)
        requests_before = len(order_requests(state))
        CollectionRun.objects.filter(pk=killed.pk).update(heartbeat_at=killed.heartbeat_at - dt.timedelta(hours=1))
        assert collection.collection_runs_reap() == [killed.pk]
        resumed = collection.collection_run_execute(run_id=killed.pk)
        assert resumed.status == "succeeded", resumed.error
        assert Order.objects.count() == 600
        assert len(order_requests(state)) - requests_before == 1  # only page 3 fetched again


def test_a_failed_run_with_a_checkpoint_is_resumed_by_the_next_run():
    with shopify(orders=600) as (shop, state):
        failed = CollectionRun.objects.create(
            shop=shop, kind="orders", status="failed", window_start=START, window_end=END, pages=1,
            checkpoint={"next_url": _second_page_url()}, error="HTTP 500",
        )
        resumed = run(shop)
        assert resumed.status == "succeeded", resumed.error
        assert (resumed.window_start, resumed.window_end) == (failed.window_start, failed.window_end)
        assert resumed.records_seen == 600 - 250
        assert "page_info=" in order_requests(state)[0]


def test_a_failed_resume_that_got_nowhere_is_not_resumed_again():
    with shopify(orders=5) as (shop, state):
        CollectionRun.objects.create(shop=shop, kind="orders", status="failed", window_start=START, window_end=END,
                                     pages=0, checkpoint={"next_url": "/admin/api/2024-10/orders.json?page_info=gone"})
        result = run(shop)
        assert result.status == "succeeded", result.error
        assert result.window_start != START  # a fresh window from the default look-back
        assert all("page_info=gone" not in r for r in order_requests(state))


def _second_page_url() -> str:
    """The Link URL of page 2 of a full listing, as the server gives it."""
    import base64
    import json

    token = base64.urlsafe_b64encode(json.dumps({"filters": {
        "status": "any", "updated_at_min": START.isoformat(), "updated_at_max": END.isoformat()}, "offset": 250}
    ).encode()).decode().rstrip("=")
    return f"/admin/api/2024-10/orders.json?limit=250&page_info={token}"


def test_only_one_active_run_per_shop_and_kind(django_capture_on_commit_callbacks):
    with shopify(orders=3) as (shop, state):
        with django_capture_on_commit_callbacks(execute=False):
            run_a, created_a = collection.collection_run_start(shop=shop, kind="orders")
            run_b, created_b = collection.collection_run_start(shop=shop, kind="orders")
        assert created_a and not created_b and run_a.pk == run_b.pk


def test_test_connection_checks_the_credentials():
    with shopify() as (shop, state):
        assert collection.shop_test_connection(shop=shop) == (True, "Sandbox shop")
    with shopify(server_credentials={"access_token": "nope"}) as (shop, state):
        ok, message = collection.shop_test_connection(shop=shop)
        assert not ok and "HTTP 401" in message


class _LaterPagesRefused(ShopifyHandler):
    """Answers HTTP 500 to every page after the first while state.extra["refuse_later_pages"] is set."""

    def route(self, method, path, query, body):
        extra = self.sandbox.extra
        if "page_info" in query and extra.get("refuse_later_pages"):
            extra["refused"].set()
            return 500, {"errors": "Internal error"}, {}
        return super().route(method, path, query, body)


def test_a_failure_fetching_page_k_plus_1_while_page_k_is_stored_leaves_checkpoint_k_and_resumes(monkeypatch):
    with sandbox_shop(_LaterPagesRefused, "shopify", credentials=TOKEN, orders=600) as (shop, state):
        state.extra.update(refuse_later_pages=True, refused=threading.Event())
        real_store = collection._store_order_page
        overlapped = []

        def store_once_page_2_was_refused(*args, **kwargs):
            if not overlapped:  # page 1: page 2 is fetched (and refused) while this page is stored
                overlapped.append(state.extra["refused"].wait(timeout=10))
            return real_store(*args, **kwargs)

        monkeypatch.setattr(collection, "_store_order_page", store_once_page_2_was_refused)
        failed = run(shop, **window(START, END))
        assert overlapped == [True]
        assert failed.status == "failed" and "HTTP 500" in failed.error
        assert failed.pages == 1 and failed.checkpoint["next_url"].endswith(_second_page_url())
        assert Order.objects.count() == 250

        state.extra["refuse_later_pages"] = False
        resumed = run(shop)
        assert resumed.status == "succeeded", resumed.error
        assert (resumed.window_start, resumed.window_end) == (START, END)
        assert (resumed.pages, resumed.records_seen, resumed.records_created) == (2, 350, 350)
        assert Order.objects.count() == 600


def test_pages_are_fetched_one_ahead_at_most_and_not_after_the_run_died(monkeypatch):
    with shopify(orders=1000) as (shop, state):  # 4 pages

        def dying_store(*args, **kwargs):
            deadline = time.monotonic() + 10
            while len(order_requests(state)) < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.2)  # time enough for a third request, were one made
            raise KeyboardInterrupt("worker killed")

        monkeypatch.setattr(collection, "_store_order_page", dying_store)
        with pytest.raises(KeyboardInterrupt):
            run(shop, **window(START, END))
        time.sleep(0.2)
        assert len(order_requests(state)) == 2
        assert CollectionRun.objects.get().pages == 0 and not Order.objects.exists()


class _HtmlInsteadOfJson(ShopifyHandler):
    def route(self, method, path, query, body):
        return 200, b"<html>maintenance</html>", {}


def test_a_page_that_is_not_json_fails_the_run_with_the_reason():
    with sandbox_shop(_HtmlInsteadOfJson, "shopify", credentials=TOKEN, orders=5) as (shop, state):
        result = run(shop, **window(START, END))
        assert result.status == "failed" and "不是有效 JSON" in result.error and "maintenance" in result.error
        assert not Order.objects.exists()
