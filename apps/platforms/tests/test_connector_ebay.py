"""The eBay connector against the local eBay-contract server, over real HTTP."""
import datetime as dt
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

import apps.platforms.connectors.ebay as ebay
from apps.platforms import collection
from apps.platforms.connectors.base import MAX_RESULT_SET_CHANGES
from apps.platforms.models import CollectionRun, Listing, QuarantinedRecord, Shop
from apps.platforms.sandbox.core import LeakyBucket
from apps.platforms.sandbox.ebay import INVALID_FILTER, EbayHandler, order_id
from apps.sales.models import Order

from .sandbox_support import START, run, sandbox_shop, window

pytestmark = pytest.mark.django_db
CREDENTIALS = {"access_token": "v^1.1#i^1#valid", "refresh_token": "v^1.1#r^1#refresh", "client_id": "Sandbox-ERP-PRD",
               "client_secret": "PRD-secret"}
END = START + dt.timedelta(days=30)


def shop(orders=0, credentials=None, **kwargs):
    kwargs.setdefault("server_credentials", dict(CREDENTIALS))
    return sandbox_shop(EbayHandler, "ebay", credentials=credentials or dict(CREDENTIALS), orders=orders, **kwargs)


def order_requests(state):
    return [r for r in state.requests if r.startswith("GET /sell/fulfillment/v1/order")]


def token_requests(state):
    return [r for r in state.requests if r.startswith("POST /identity/v1/oauth2/token")]


def query(request: str) -> dict:
    return {k: v[-1] for k, v in parse_qs(urlsplit(request.split(" ", 1)[1]).query).items()}


@pytest.fixture
def page_size(monkeypatch):
    def set_size(size):
        monkeypatch.setattr(ebay, "PAGE_SIZE", size)
    return set_size


def test_a_full_pull_follows_offset_pages_and_stores_every_order():
    with shop(orders=600) as (sh, state):
        result = run(sh, **window(START, END))
        assert result.status == "succeeded", result.error
        assert (result.pages, result.records_seen, result.records_created) == (3, 600, 600)
        assert Order.objects.filter(shop=sh).count() == 600
        pages = order_requests(state)
        assert [query(r)["offset"] for r in pages] == ["0", "200", "400"]
        assert all(query(r)["limit"] == "200" for r in pages)
        # the filter's brackets and colons travel percent-encoded, identical on every page
        assert all("filter=lastmodifieddate%3A%5B2025-03-01T00%3A00%3A00.000Z..2025-03-31T00%3A00%3A00.000Z%5D" in r
                   for r in pages)
        canonical = state.book.orders[0]
        order = Order.objects.get(shop=sh, platform_order_id=order_id(state.book.seed, canonical.number))
        assert order.total_amount == canonical.total and order.currency_id == "USD"
        assert order.buyer_country == canonical.country
        assert order.customer.platform_buyer_id == f"buyer_{canonical.buyer_id}"
        assert sorted(line.quantity for line in order.lines.all()) == sorted(line.quantity for line in canonical.lines)
        assert order.platform_status.count("/") == 2


def test_status_mapping_and_amounts_follow_the_documented_rules():
    with shop(orders=6) as (sh, state):
        numbers = [o.number for o in state.book.orders]
        state.book.change(numbers[0], state="pending", at=START + dt.timedelta(hours=1))
        state.book.change(numbers[1], state="paid", at=START + dt.timedelta(hours=1))
        state.book.change(numbers[2], state="shipped", at=START + dt.timedelta(hours=1))
        state.book.change(numbers[3], state="cancelled", at=START + dt.timedelta(hours=1))
        o4 = state.book.orders[4]
        state.book.change(o4.number, state="partially_refunded", refunded=o4.total / 4, at=START + dt.timedelta(hours=1))
        o5 = state.book.orders[5]
        state.book.change(o5.number, state="refunded", refunded=o5.total, at=START + dt.timedelta(hours=1))
        result = run(sh, **window(START, END))
        assert result.status == "succeeded", result.error
        got = {o.order_number: o for o in Order.objects.filter(shop=sh)}
        by_number = [next(o for k, o in got.items() if k.split("-")[1] == f"{n:05d}") for n in numbers]
        assert [o.status for o in by_number] == ["pending", "paid", "shipped", "cancelled", "partially_refunded", "refunded"]
        assert by_number[0].platform_status == "NOT_STARTED/PENDING/NONE_REQUESTED"
        assert by_number[3].platform_status == "NOT_STARTED/FULLY_REFUNDED/CANCELED"
        assert by_number[4].refund_amount == (o4.total / 4).quantize(by_number[4].refund_amount)
        assert by_number[5].refund_amount == o5.total
        line = by_number[1].lines.first()  # lineItemCost is the whole line: unit price × quantity
        assert line.line_total == line.unit_price * line.quantity


def test_an_incremental_pull_sends_the_window_as_the_filter_and_takes_only_what_changed():
    with shop(orders=30) as (sh, state):
        cut = START + dt.timedelta(hours=3)
        in_first = [o for o in state.book.orders if o.updated_at < cut]
        first = run(sh, **window(START, cut))
        assert first.records_created == len(in_first) < 30
        assert "2025-03-01T03%3A00%3A00.000Z%5D" in order_requests(state)[0]
        refunded = in_first[0]
        state.book.change(refunded.number, state="refunded", refunded=refunded.total, at=cut + dt.timedelta(hours=2))
        before = len(order_requests(state))
        second = run(sh)  # window from the last success minus the overlap, to now
        assert second.status == "succeeded", second.error
        assert second.window_start == first.window_end - dt.timedelta(minutes=10)
        sent = query(order_requests(state)[before])["filter"]
        assert sent.startswith("lastmodifieddate:[2025-03-01T02:50:00.000Z..")
        overlap = [o for o in state.book.orders if cut - dt.timedelta(minutes=10) <= o.updated_at < cut]
        assert second.records_seen == 30 - len(in_first) + len(overlap) + 1  # the server honoured the filter
        assert (second.records_created, second.records_updated) == (30 - len(in_first), 1)
        assert Order.objects.get(shop=sh, order_number__contains=f"-{refunded.number:05d}-").status == "refunded"


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


def test_429s_without_retry_after_back_off_like_server_errors(page_size):
    with shop(orders=30) as (sh, state):
        state.limiter = LeakyBucket(capacity=2, leak_per_second=50)
        page_size(5)
        result = run(sh, **window(START, END))
        assert result.status == "succeeded", result.error
        assert result.records_created == 30 and result.pages == 6


def test_persistent_server_errors_fail_the_run_with_the_reason():
    with shop(orders=5) as (sh, state):
        state.faults = [500] * 10
        result = run(sh, **window(START, END))
        assert result.status == "failed" and "HTTP 500" in result.error and "2003" in result.error
        assert not Order.objects.exists()


def test_an_expired_access_token_is_refreshed_once_and_the_new_token_is_stored(page_size):
    expired = {**CREDENTIALS, "access_token": "v^1.1#i^1#expired"}
    with shop(orders=30, credentials=expired) as (sh, state):
        page_size(10)
        result = run(sh, **window(START, END))
        assert result.status == "succeeded", result.error
        assert result.records_created == 30
        assert len(token_requests(state)) == 1 and state.extra["refreshes"] == 1
        assert len(order_requests(state)) == 4  # 401, then 3 pages with the new token
        stored = Shop.objects.get(pk=sh.pk).credentials
        assert stored["access_token"] == state.credentials["access_token"] != expired["access_token"]
        assert stored["refresh_token"] == CREDENTIALS["refresh_token"] and stored["client_id"] == CREDENTIALS["client_id"]
        assert dt.datetime.fromisoformat(stored["access_token_expires_at"]) > dt.datetime.now(dt.UTC)
        again = run(sh, **window(START, END))  # the saved token is used as is
        assert again.status == "succeeded" and len(token_requests(state)) == 1


def test_a_token_past_its_stored_expiry_is_refreshed_before_the_first_call():
    stale = {**CREDENTIALS, "access_token": "v^1.1#i^1#old",
             "access_token_expires_at": (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat()}
    with shop(orders=5, credentials=stale) as (sh, state):
        result = run(sh, **window(START, END))
        assert result.status == "succeeded", result.error
        assert state.requests[0].startswith("POST /identity/v1/oauth2/token") and len(order_requests(state)) == 1
        assert Shop.objects.get(pk=sh.pk).credentials["access_token"] == state.credentials["access_token"]


@pytest.mark.parametrize("case", ["refresh_token_revoked", "client_secret_wrong", "no_refresh_token", "still_401"])
def test_an_auth_failure_ends_the_run_and_marks_the_shop_for_reauthorisation(case):
    credentials = {**CREDENTIALS, "access_token": "v^1.1#i^1#expired"}
    server = dict(CREDENTIALS)
    if case == "refresh_token_revoked":
        server["refresh_token"] = "another"
    elif case == "client_secret_wrong":
        server["client_secret"] = "another"
    elif case == "no_refresh_token":
        del credentials["refresh_token"]
    with shop(orders=5, credentials=credentials, server_credentials=server) as (sh, state):
        if case == "still_401":
            state.extra["reject_all_tokens"] = True
        result = run(sh, **window(START, END))
        assert result.status == "failed" and "重新授权" in result.error
        assert Shop.objects.get(pk=sh.pk).auth_status == Shop.AuthStatus.NEEDS_REAUTH
        assert len(token_requests(state)) == (0 if case == "no_refresh_token" else 1)
        assert not Order.objects.exists()
        expected = {"refresh_token_revoked": "invalid_grant", "client_secret_wrong": "invalid_client",
                    "no_refresh_token": "refresh_token", "still_401": "Invalid access token"}[case]
        assert expected in result.error


def test_a_malformed_record_is_quarantined_and_the_run_goes_on():
    with shop(orders=10) as (sh, state):
        state.book.orders[3].malformed = True
        result = run(sh, **window(START, END))
        assert result.status == "succeeded"
        assert (result.records_created, result.records_quarantined) == (9, 1)
        bad = QuarantinedRecord.objects.get()
        assert bad.payload["pricingSummary"]["total"]["value"] == "abc" and bad.reason
        assert bad.external_id.startswith("BAD-")


def test_a_run_killed_after_page_k_resumes_at_k_plus_1_and_stores_each_order_once(monkeypatch, page_size):
    page_size(50)
    with shop(orders=150) as (sh, state):
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
        assert killed.status == "running" and killed.pages == 2 and killed.checkpoint["offset"] == 100
        assert Order.objects.count() == 100

        monkeypatch.setattr(collection, "_store_order_page", real_store)
        requests_before = len(order_requests(state))
        CollectionRun.objects.filter(pk=killed.pk).update(heartbeat_at=killed.heartbeat_at - dt.timedelta(hours=1))
        assert collection.collection_runs_reap() == [killed.pk]
        resumed = collection.collection_run_execute(run_id=killed.pk)
        assert resumed.status == "succeeded", resumed.error
        assert Order.objects.count() == 150
        again = order_requests(state)[requests_before:]
        assert len(again) == 1 and query(again[0])["offset"] == "100"  # only page 3 fetched again
        assert "lastmodifieddate" in query(again[0])["filter"]


def test_the_server_rejects_a_malformed_filter_or_limit_with_ebay_errors():
    with shop() as (sh, state):
        url = f"{sh.api_base_url}/sell/fulfillment/v1/order"
        client = httpx.Client(headers={"Authorization": f"Bearer {CREDENTIALS['access_token']}"})
        for bad in ["lastmodifieddate:[2025-03-01..]", "lastmodifieddate:[2025-03-01T00:00:00.000Z",
                    "lastmodified:[2025-03-01T00:00:00.000Z..]", "orderfulfillmentstatus:{SHIPPED}",
                    "lastmodifieddate:[2025-03-02T00:00:00.000Z..2025-03-01T00:00:00.000Z]", "lastmodifieddate:[..]"]:
            response = client.get(url, params={"filter": bad})
            assert response.status_code == 400, bad
            assert response.json() == INVALID_FILTER == {"errors": [
                {"errorId": 30700, "domain": "API_FULFILLMENT", "category": "REQUEST", "message": "Invalid filter"}]}
        good = client.get(url, params={"filter": "lastmodifieddate:[2025-03-01T00:00:00.000Z..],"
                                               "orderfulfillmentstatus:{NOT_STARTED|IN_PROGRESS}"})
        assert good.status_code == 200 and good.json()["total"] == 0 and "next" not in good.json()
        for limit in (0, 201):
            response = client.get(url, params={"limit": limit})
            assert response.status_code == 400 and response.json()["errors"][0]["category"] == "REQUEST"
        client.close()


def test_a_platform_validation_error_fails_the_run_clearly_without_retrying(monkeypatch):
    with shop(orders=5) as (sh, state):
        monkeypatch.setattr(ebay, "order_filter", lambda since, until: f"lastmodifieddate:[{since:%Y-%m-%d}..]")
        result = run(sh, **window(START, END))
        assert result.status == "failed"
        assert "HTTP 400" in result.error and "30700" in result.error and "Invalid filter" in result.error
        assert len(order_requests(state)) == 1
        assert Shop.objects.get(pk=sh.pk).auth_status != Shop.AuthStatus.NEEDS_REAUTH


def test_the_connector_never_asks_for_more_than_200_per_page(page_size):
    with shop(orders=201) as (sh, state):
        page_size(500)
        result = run(sh, **window(START, END))
        assert result.status == "succeeded", result.error
        assert [query(r)["limit"] for r in order_requests(state)] == ["200", "200"]
        assert result.records_created == 201


def test_listings_and_stock_come_from_the_inventory_items(page_size):
    with shop() as (sh, state):
        state.stock = {f"SB-{n:03d}": n for n in range(1, 8)}
        page_size(3)
        products = run(sh, kind="products")
        assert products.status == "succeeded", products.error
        assert Listing.objects.filter(shop=sh).count() == 7
        state.stock["SB-002"] = 40
        inventory = run(sh, kind="inventory")
        assert inventory.status == "succeeded", inventory.error
        assert Listing.objects.get(shop=sh, platform_sku="SB-002").platform_stock == 40
        assert len([r for r in state.requests if "inventory_item" in r]) == 6  # 3 pages, twice


def test_test_connection_checks_the_credentials():
    with shop() as (sh, state):
        ok, message = collection.shop_test_connection(shop=sh)
        assert ok and "eBay" in message
    with shop(credentials={"access_token": "nope"}) as (sh, state):
        ok, message = collection.shop_test_connection(shop=sh)
        assert not ok and "refresh_token" in message
        assert Shop.objects.get(pk=sh.pk).auth_status == Shop.AuthStatus.NEEDS_REAUTH


def leaves_the_window(state, number):
    """The platform modifies an order now: its lastModifiedDate moves past the run's window end."""
    state.book.change(number, at=END + dt.timedelta(hours=1))


def test_an_order_modified_mid_run_does_not_make_a_later_order_slide_unread_into_the_pages_read(page_size):
    page_size(50)
    with shop(orders=150) as (sh, state):
        in_window = state.book.updated_between(START, END)
        slides_back = in_window[50]  # first of page 2; once an order of page 1 leaves, it is 49th

        def modify_a_read_order(q):
            if q["offset"] == "50" and not state.extra.get("modified"):
                state.extra["modified"] = True
                leaves_the_window(state, in_window[10].number)

        state.before_orders_page = modify_a_read_order
        result = run(sh, **window(START, END))
        assert result.status == "succeeded", result.error
        assert Order.objects.filter(shop=sh).count() == 150 == result.records_created
        assert Order.objects.filter(shop=sh, platform_order_id=order_id(state.book.seed, slides_back.number)).exists()
        # total 150 → 149 on the page at offset 50: it is read again one place back
        assert [query(r)["offset"] for r in order_requests(state)] == ["0", "50", "49", "99"]


def test_orders_that_left_the_window_while_a_killed_run_waited_are_allowed_for_on_resume(monkeypatch, page_size):
    page_size(50)
    with shop(orders=150) as (sh, state):
        in_window = state.book.updated_between(START, END)
        real_store = collection._store_order_page

        def dying_store(*args, **kwargs):
            if CollectionRun.objects.get().pages == 2:
                raise KeyboardInterrupt("worker killed")
            return real_store(*args, **kwargs)

        monkeypatch.setattr(collection, "_store_order_page", dying_store)
        with pytest.raises(KeyboardInterrupt):
            run(sh, **window(START, END))
        killed = CollectionRun.objects.get()
        assert (killed.checkpoint["offset"], killed.checkpoint["total"]) == (100, 150)
        for order in in_window[:3]:  # three orders already stored are modified before the resume
            leaves_the_window(state, order.number)

        monkeypatch.setattr(collection, "_store_order_page", real_store)
        before = len(order_requests(state))
        resumed = collection.collection_run_execute(run_id=killed.pk)
        assert resumed.status == "succeeded", resumed.error
        assert Order.objects.filter(shop=sh).count() == 150
        assert [query(r)["offset"] for r in order_requests(state)[before:]] == ["100", "97"]


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
        assert result.pages == 1 and Order.objects.filter(shop=sh).count() == 20
        assert len(order_requests(state)) == 1 + 1 + MAX_RESULT_SET_CHANGES


def test_a_set_that_grows_mid_run_is_read_again_from_the_window_start(page_size):
    """Growth means the window end is in the platform's future (a skewed clock): no bound on what
    moved, so the window is read again; the order that arrived is stored as well."""
    page_size(50)
    with shop(orders=100) as (sh, state):
        def an_order_arrives_early_in_the_window(q):
            if q["offset"] == "50" and not state.extra.get("added"):
                state.extra["added"] = state.book.add(1, at=START + dt.timedelta(minutes=1))[0]

        state.before_orders_page = an_order_arrives_early_in_the_window
        result = run(sh, **window(START, END))
        assert result.status == "succeeded", result.error
        assert [query(r)["offset"] for r in order_requests(state)] == ["0", "50", "0", "50", "100"]
        assert Order.objects.filter(shop=sh).count() == 101 == result.records_created
        arrived = order_id(state.book.seed, state.extra["added"].number)
        assert Order.objects.filter(shop=sh, platform_order_id=arrived).exists()
