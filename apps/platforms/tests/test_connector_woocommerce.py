"""The WooCommerce connector against the local WooCommerce-contract server, over real HTTP."""
import datetime as dt
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

import apps.platforms.connectors.woocommerce as woo
from apps.platforms import collection
from apps.platforms.connectors.base import MAX_RESULT_SET_CHANGES
from apps.platforms.models import CollectionRun, Listing, QuarantinedRecord, Shop
from apps.platforms.sandbox.core import LeakyBucket
from apps.platforms.sandbox.woocommerce import WooCommerceHandler
from apps.sales.models import Customer, Order

from .sandbox_support import START, run, sandbox_shop, window

pytestmark = pytest.mark.django_db
KEYS = {"consumer_key": "ck_4f1c2e7d9a0b", "consumer_secret": "cs_8e3a5b1f6c2d"}
END = START + dt.timedelta(days=30)
PER_PAGE_BODY = {"code": "rest_invalid_param", "message": "Invalid parameter(s): per_page",
                 "data": {"status": 400, "params": {"per_page": "per_page must be between 1 (inclusive) and 100 (inclusive)"}}}


def shop(orders=0, credentials=None, **kwargs):
    kwargs.setdefault("server_credentials", dict(KEYS))
    return sandbox_shop(WooCommerceHandler, "woocommerce", credentials=credentials or dict(KEYS), orders=orders,
                        **kwargs)


def order_requests(state):
    return [r for r in state.requests if r.startswith("GET /wp-json/wc/v3/orders")]


def query(request: str) -> dict:
    return {k: v[-1] for k, v in parse_qs(urlsplit(request.split(" ", 1)[1]).query).items()}


def by_number(shop, number) -> Order:
    return Order.objects.get(shop=shop, order_number=f"#{number}")


@pytest.fixture
def page_size(monkeypatch):
    def set_size(size):
        monkeypatch.setattr(woo, "PAGE_SIZE", size)
    return set_size


def test_a_full_pull_follows_the_pages_and_stores_every_order():
    with shop(orders=450) as (sh, state):
        result = run(sh, **window(START, END))
        assert result.status == "succeeded", result.error
        assert (result.pages, result.records_seen, result.records_created) == (5, 450, 450)
        assert Order.objects.filter(shop=sh).count() == 450
        pages = [query(r) for r in order_requests(state)]
        assert [p["page"] for p in pages] == ["1", "2", "3", "4", "5"]
        assert all(p["per_page"] == "100" and p["dates_are_gmt"] == "true" and p["orderby"] == "id" for p in pages)
        # [since, until) with WordPress's exclusive whole-second bounds
        assert pages[0]["modified_after"] == "2025-02-28T23:59:59" and pages[0]["modified_before"] == "2025-03-31T00:00:00"
        canonical = state.book.orders[0]
        order = by_number(sh, canonical.number)
        assert order.ordered_at == START and order.total_amount == canonical.total and order.currency_id == "USD"
        assert order.buyer_country == canonical.country
        assert sum(line.line_total for line in order.lines.all()) == canonical.items_total


def test_guests_are_identified_by_billing_email_and_customers_by_their_id():
    with shop(orders=60) as (sh, state):
        run(sh, **window(START, END))
        guests = {o.email for o in state.book.orders if int(o.buyer_id.split("-")[-1]) % 4 == 0}
        members = {o.buyer_id for o in state.book.orders if int(o.buyer_id.split("-")[-1]) % 4}
        assert guests and members
        customers = Customer.objects.filter(shop=sh)
        assert set(customers.filter(platform_buyer_id="").values_list("email", flat=True)) == guests
        assert customers.exclude(platform_buyer_id="").count() == len(members)


def test_statuses_refunds_and_gmt_times_follow_the_documented_mapping():
    with shop(orders=7) as (sh, state):
        later = START + dt.timedelta(days=2)
        o = state.book.orders  # numbers 1001…1007; the server shows pending 1005 as on-hold
        targets = [("pending", {}), ("paid", {}), ("shipped", {}), ("cancelled", {}), ("pending", {}),
                   ("partially_refunded", {"refunded": o[5].total / 4}), ("refunded", {"refunded": o[6].total})]
        for order, (target, extra) in zip(o, targets, strict=True):
            state.book.change(order.number, state=target, at=later, **extra)
        result = run(sh, **window(START, END))
        assert result.status == "succeeded", result.error
        got = [by_number(sh, x.number) for x in o]
        assert [g.status for g in got] == ["pending", "paid", "shipped", "cancelled", "pending", "partially_refunded",
                                           "refunded"]
        assert [g.platform_status for g in got[:5]] == ["pending", "processing", "completed", "cancelled", "on-hold"]
        assert got[5].platform_status in ("processing", "completed") and got[6].platform_status == "refunded"
        assert got[5].refund_amount == (o[5].total / 4).quantize(got[5].refund_amount)
        assert got[6].refund_amount == o[6].total
        assert got[2].shipped_at == o[2].shipped_at.replace(microsecond=0)
        assert got[1].platform_updated_at == later and got[3].cancelled_at == later
        assert got[1].paid_at == o[1].created_at and got[0].paid_at is None


def test_an_incremental_pull_sends_the_window_and_takes_only_what_changed():
    with shop(orders=30) as (sh, state):
        cut = START + dt.timedelta(hours=3)
        in_first = [o for o in state.book.orders if o.updated_at < cut]
        first = run(sh, **window(START, cut))
        assert first.records_created == len(in_first) < 30
        assert query(order_requests(state)[0])["modified_before"] == "2025-03-01T03:00:00"
        refunded = in_first[0]
        state.book.change(refunded.number, state="refunded", refunded=refunded.total, at=cut + dt.timedelta(hours=2))
        before = len(order_requests(state))
        second = run(sh)  # window from the last success minus the overlap, to now
        assert second.status == "succeeded", second.error
        assert second.window_start == first.window_end - dt.timedelta(minutes=10)
        assert query(order_requests(state)[before])["modified_after"] == "2025-03-01T02:49:59"
        overlap = [o for o in state.book.orders if cut - dt.timedelta(minutes=10) <= o.updated_at < cut]
        assert second.records_seen == 30 - len(in_first) + len(overlap) + 1  # the server honoured the filter
        assert (second.records_created, second.records_updated) == (30 - len(in_first), 1)
        assert by_number(sh, refunded.number).status == "refunded"


def test_without_dates_are_gmt_the_server_reads_site_local_time():
    """The contract server really applies the flag: the same bounds in site time (+8) miss 8 hours."""
    with shop(orders=100) as (sh, state):
        params = {"modified_after": "2025-03-01T00:00:00", "modified_before": "2025-03-01T10:00:00", "per_page": 100}
        with httpx.Client(auth=(KEYS["consumer_key"], KEYS["consumer_secret"])) as client:
            gmt = client.get(f"{sh.api_base_url}/wp-json/wc/v3/orders", params={**params, "dates_are_gmt": "true"})
            local = client.get(f"{sh.api_base_url}/wp-json/wc/v3/orders", params=params)
        assert int(gmt.headers["X-WP-Total"]) == len([o for o in state.book.orders if o.updated_at < START +
                                                      dt.timedelta(hours=10)]) - 1  # exclusive at 00:00:00
        assert int(local.headers["X-WP-Total"]) < int(gmt.headers["X-WP-Total"])


def test_the_same_data_twice_changes_nothing():
    with shop(orders=40) as (sh, state):
        run(sh, **window(START, END))
        again = run(sh, **window(START, END))
        assert (again.records_seen, again.records_created, again.records_updated) == (40, 0, 0)
        assert Order.objects.filter(shop=sh).count() == 40


@pytest.mark.parametrize("faults", [[429], [500], [503, 502], [429, 500, 429]])
def test_rate_limits_and_server_errors_are_retried_until_success(faults):
    with shop(orders=5) as (sh, state):
        state.faults = list(faults)
        result = run(sh, **window(START, END))
        assert result.status == "succeeded", result.error
        assert result.records_created == 5
        assert len(order_requests(state)) == 1 + len(faults)


def test_429s_with_retry_after_from_a_rate_limiting_host_are_honoured(page_size):
    with shop(orders=30) as (sh, state):
        state.limiter = LeakyBucket(capacity=2, leak_per_second=50)
        page_size(5)
        result = run(sh, **window(START, END))
        assert result.status == "succeeded", result.error
        assert (result.records_created, result.pages) == (30, 6)


def test_persistent_server_errors_fail_the_run_with_the_reason():
    with shop(orders=5) as (sh, state):
        state.faults = [500] * 10
        result = run(sh, **window(START, END))
        assert result.status == "failed" and "HTTP 500" in result.error
        assert not Order.objects.exists()


@pytest.mark.parametrize("credentials, reason", [
    ({**KEYS, "consumer_secret": "cs_wrong"}, "Consumer secret is invalid"),
    ({**KEYS, "consumer_key": "ck_wrong"}, "Consumer key is invalid"),
    ({"consumer_key": "ck_only"}, "consumer_secret"),
])
def test_an_auth_failure_ends_the_run_and_marks_the_shop_for_reauthorisation(credentials, reason):
    with shop(orders=5, credentials=credentials) as (sh, state):
        result = run(sh, **window(START, END))
        assert result.status == "failed" and "重新授权" in result.error and reason in result.error
        assert Shop.objects.get(pk=sh.pk).auth_status == Shop.AuthStatus.NEEDS_REAUTH
        assert len(order_requests(state)) <= 1  # no refresh, no retry
        assert not Order.objects.exists()


def test_the_server_refuses_a_request_without_credentials_with_cannot_view():
    with shop() as (sh, state):
        response = httpx.get(f"{sh.api_base_url}/wp-json/wc/v3/orders")
        assert response.status_code == 401 and response.json()["code"] == "woocommerce_rest_cannot_view"


def test_query_string_auth_works_when_the_server_drops_the_authorization_header():
    with shop(orders=12, credentials={**KEYS, "auth_in_query": True}) as (sh, state):
        result = run(sh, **window(START, END))
        assert result.status == "succeeded", result.error
        assert result.records_created == 12
        assert query(order_requests(state)[0])["consumer_key"] == KEYS["consumer_key"]


def test_a_malformed_record_is_quarantined_and_the_run_goes_on():
    with shop(orders=10) as (sh, state):
        state.book.orders[3].malformed = True
        result = run(sh, **window(START, END))
        assert result.status == "succeeded"
        assert (result.records_created, result.records_quarantined) == (9, 1)
        bad = QuarantinedRecord.objects.get()
        assert bad.payload["total"] == "abc" and bad.reason and bad.external_id == str(bad.payload["id"])


def test_an_unknown_status_is_quarantined_not_guessed():
    with shop(orders=3) as (sh, state):
        connector = collection.connector_for(sh)
        record = {"id": 1, "status": "awaiting-pickup", "total": "1.00", "line_items": [{"quantity": 1, "total": "1"}]}
        with pytest.raises(woo.CleaningError, match="awaiting-pickup"):
            connector.normalize_order(record)


def test_a_run_killed_after_page_k_resumes_at_k_plus_1_and_stores_each_order_once(monkeypatch, page_size):
    page_size(40)
    with shop(orders=120) as (sh, state):
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
            run(sh, **window(START, END))
        killed = CollectionRun.objects.get()
        assert killed.status == "running" and killed.pages == 2
        assert killed.checkpoint == {"page": 3, "per_page": 40, "total": 120}
        assert Order.objects.count() == 80

        monkeypatch.setattr(collection, "_store_order_page", real_store)
        requests_before = len(order_requests(state))
        CollectionRun.objects.filter(pk=killed.pk).update(heartbeat_at=killed.heartbeat_at - dt.timedelta(hours=1))
        assert collection.collection_runs_reap() == [killed.pk]
        resumed = collection.collection_run_execute(run_id=killed.pk)
        assert resumed.status == "succeeded", resumed.error
        assert Order.objects.count() == 120
        again = order_requests(state)[requests_before:]
        assert len(again) == 1 and query(again[0])["page"] == "3"  # only page 3 fetched again
        assert query(again[0])["modified_after"] == "2025-02-28T23:59:59"


def test_the_server_rejects_per_page_outside_1_to_100_and_the_connector_never_sends_it(page_size):
    with shop(orders=150) as (sh, state):
        with httpx.Client(auth=(KEYS["consumer_key"], KEYS["consumer_secret"])) as client:
            for per_page in (0, 101):
                response = client.get(f"{sh.api_base_url}/wp-json/wc/v3/orders", params={"per_page": per_page})
                assert response.status_code == 400 and response.json() == PER_PAGE_BODY
            ok = client.get(f"{sh.api_base_url}/wp-json/wc/v3/orders", params={"per_page": 100, "page": 2})
            assert ok.status_code == 200 and len(ok.json()) == 50
            assert ok.headers["X-WP-TotalPages"] == "2" and 'rel="prev"' in ok.headers["Link"]
            assert 'rel="next"' not in ok.headers["Link"]
        before = len(order_requests(state))
        page_size(500)
        result = run(sh, **window(START, END))
        assert result.status == "succeeded", result.error
        assert [query(r)["per_page"] for r in order_requests(state)[before:]] == ["100", "100"]
        assert result.records_created == 150


def test_a_platform_validation_error_fails_the_run_clearly_without_retrying(monkeypatch):
    with shop(orders=5) as (sh, state):
        monkeypatch.setattr(woo, "window_params", lambda since, until: {"modified_after": "yesterday"})
        result = run(sh, **window(START, END))
        assert result.status == "failed"
        assert "HTTP 400" in result.error and "rest_invalid_param" in result.error and "modified_after" in result.error
        assert len(order_requests(state)) == 1
        assert Shop.objects.get(pk=sh.pk).auth_status != Shop.AuthStatus.NEEDS_REAUTH


def test_listings_and_stock_come_from_the_products(page_size):
    with shop() as (sh, state):
        state.stock = {f"SB-{n:03d}": n for n in range(1, 8)}
        page_size(3)
        products = run(sh, kind="products")
        assert products.status == "succeeded", products.error
        listing = Listing.objects.get(shop=sh, platform_sku="SB-004")
        assert (listing.title, str(listing.price), listing.platform_stock) == ("Sandbox item SB-004", "19.99", 4)
        assert Listing.objects.filter(shop=sh).count() == 7
        state.stock["SB-002"] = 40
        inventory = run(sh, kind="inventory")
        assert inventory.status == "succeeded", inventory.error
        assert Listing.objects.get(shop=sh, platform_sku="SB-002").platform_stock == 40
        assert len([r for r in state.requests if "/products" in r]) == 6  # 3 pages, twice


def test_test_connection_checks_the_credentials():
    with shop(orders=3) as (sh, state):
        assert collection.shop_test_connection(shop=sh) == (True, "WooCommerce 店铺（共 3 个订单）")
    with shop(credentials={**KEYS, "consumer_secret": "nope"}) as (sh, state):
        ok, message = collection.shop_test_connection(shop=sh)
        assert not ok and "HTTP 401" in message
        assert Shop.objects.get(pk=sh.pk).auth_status == Shop.AuthStatus.NEEDS_REAUTH


def leaves_the_window(state, number):
    """The shop modifies an order now: its date_modified moves past the run's window end."""
    state.book.change(number, at=END + dt.timedelta(hours=1))


def test_an_order_modified_mid_run_does_not_make_a_later_order_slide_unread_into_the_pages_read(page_size):
    page_size(40)
    with shop(orders=120) as (sh, state):
        slides_back = state.book.orders[40]  # first of page 2 (by id); once page 1 loses one, it is 40th

        def modify_a_read_order(q):
            if q["page"] == "2" and not state.extra.get("modified"):
                state.extra["modified"] = True
                leaves_the_window(state, state.book.orders[10].number)

        state.before_orders_page = modify_a_read_order
        result = run(sh, **window(START, END))
        assert result.status == "succeeded", result.error
        assert Order.objects.filter(shop=sh).count() == 120 == result.records_created
        assert by_number(sh, slides_back.number)
        # X-WP-Total 120 → 119 on page 2: page 1 is read again, then pages 2 and 3 of the new set
        assert [query(r)["page"] for r in order_requests(state)] == ["1", "2", "1", "2", "3"]


def test_orders_that_left_the_window_while_a_killed_run_waited_are_allowed_for_on_resume(monkeypatch, page_size):
    page_size(40)
    with shop(orders=120) as (sh, state):
        real_store = collection._store_order_page

        def dying_store(*args, **kwargs):
            if CollectionRun.objects.get().pages == 2:
                raise KeyboardInterrupt("worker killed")
            return real_store(*args, **kwargs)

        monkeypatch.setattr(collection, "_store_order_page", dying_store)
        with pytest.raises(KeyboardInterrupt):
            run(sh, **window(START, END))
        killed = CollectionRun.objects.get()
        assert killed.checkpoint == {"page": 3, "per_page": 40, "total": 120}
        for order in state.book.orders[:3]:  # three orders already stored are modified before the resume
            leaves_the_window(state, order.number)

        monkeypatch.setattr(collection, "_store_order_page", real_store)
        before = len(order_requests(state))
        resumed = collection.collection_run_execute(run_id=killed.pk)
        assert resumed.status == "succeeded", resumed.error
        assert Order.objects.filter(shop=sh).count() == 120
        assert [query(r)["page"] for r in order_requests(state)[before:]] == ["3", "2", "3"]


def test_a_result_set_that_changes_on_every_page_fails_the_run_after_a_bounded_number_of_rereads(page_size):
    page_size(20)
    with shop(orders=100) as (sh, state):
        in_window = iter(state.book.updated_between(START, END))
        served = []

        def modify_one_more(q):
            if served:  # every page after the first
                leaves_the_window(state, next(in_window).number)
            served.append(q)

        state.before_orders_page = modify_one_more
        result = run(sh, **window(START, END))
        assert result.status == "failed"
        assert "翻页期间" in result.error and "订单集合" in result.error
        # page 2 shows a change each time and points back to page 1, which (the window's first page)
        # is used but does not end the run of changes: the bound still holds
        pages = [query(r)["page"] for r in order_requests(state)]
        assert pages == ["1"] + ["2", "1"] * MAX_RESULT_SET_CHANGES + ["2"]
        assert CollectionRun.objects.get().checkpoint["page"] == 2
