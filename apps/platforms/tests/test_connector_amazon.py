"""The Amazon SP-API connector against the local SP-API-contract server, over real HTTP."""
import datetime as dt
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from apps.inventory.models import InventoryItem, StockMovement, Warehouse
from apps.inventory.services import stock_level_set
from apps.inventory.tests.factories import ProductFactory, WarehouseFactory
from apps.platforms import collection
from apps.platforms.connectors import amazon as connector_module
from apps.platforms.connectors.amazon import AmazonCollector, order_status, token_url
from apps.platforms.connectors.base import ShopContext
from apps.platforms.connectors.errors import CleaningError
from apps.platforms.models import CollectionRun, Listing, QuarantinedRecord, Shop
from apps.platforms.sandbox.amazon import AmazonHandler, amazon_order_id, asin, expire_access_tokens, is_afn
from apps.platforms.sandbox.core import LeakyBucket
from apps.sales.models import Order, OrderLine

from .factories import ListingFactory
from .sandbox_support import START, run, sandbox_shop, window

pytestmark = pytest.mark.django_db
MARKETPLACE = "ATVPDKIKX0DER"
APP = {"refresh_token": "Atzr|sandbox-refresh", "client_id": "amzn1.application-oa2-client.sandbox",
       "client_secret": "sandbox-secret", "marketplace_id": MARKETPLACE}
CREDENTIALS = {**APP, "access_token": "Atza|sandbox-initial"}
END = START + dt.timedelta(days=30)
Movement = StockMovement.MovementType


def amazon(orders=0, credentials=None, **kwargs):
    return sandbox_shop(AmazonHandler, "amazon", credentials=credentials or CREDENTIALS, orders=orders, **kwargs)


def requests_to(state, fragment):
    return [r for r in state.requests if fragment in r]


def order_pages(state):
    return [r for r in state.requests if r.startswith("GET /orders/v0/orders?")]


def item_requests(state):
    return requests_to(state, "/orderItems")


def token_requests(state):
    return requests_to(state, "POST /auth/o2/token")


def query_of(request_line: str) -> dict:
    return {k: v[-1] for k, v in parse_qs(urlsplit(request_line.split(" ", 1)[1]).query).items()}


def stored_order(state, canonical):
    return Order.objects.get(platform_order_id=amazon_order_id(canonical, state.book.seed))


def test_a_full_pull_follows_next_tokens_and_fetches_every_orders_items():
    with amazon(orders=250) as (shop, state):
        result = run(shop, **window(START, END))
        assert result.status == "succeeded", result.error
        assert (result.pages, result.records_seen, result.records_created) == (3, 250, 250)
        assert Order.objects.filter(shop=shop).count() == 250
        assert OrderLine.objects.filter(order__shop=shop).count() == sum(len(o.lines) for o in state.book.orders)
        first, *following = order_pages(state)
        assert query_of(first) == {"MarketplaceIds": MARKETPLACE, "LastUpdatedAfter": "2025-03-01T00:00:00Z",
                                   "LastUpdatedBefore": "2025-03-31T00:00:00Z", "MaxResultsPerPage": "100"}
        assert len(following) == 2 and all(set(query_of(r)) == {"MarketplaceIds", "NextToken"} for r in following)
        assert len(item_requests(state)) == 250
        afn = sum(is_afn(o, state) for o in state.book.orders)
        assert Order.objects.filter(shop=shop, fulfillment_channel=Order.FulfillmentChannel.PLATFORM).count() == afn > 0


def test_every_request_carries_the_access_token_date_and_user_agent():
    with amazon(orders=1) as (shop, state):
        run(shop, **window(START, END))
        headers = state.extra["last_headers"]
        assert headers["x-amz-access-token"] == CREDENTIALS["access_token"]
        assert headers["x-amz-date"].endswith("Z") and headers["user-agent"].startswith("cbec-erp/")


def test_an_incremental_pull_takes_only_what_changed_since_the_last_run():
    with amazon(orders=30) as (shop, state):
        cut = START + dt.timedelta(hours=3)
        in_first = [o for o in state.book.orders if o.updated_at < cut]
        first = run(shop, **window(START, cut))
        assert first.records_created == len(in_first) < 30
        shipped = next(o for o in in_first if o.state == "paid")
        state.book.change(shipped.number, state="shipped", at=cut + dt.timedelta(hours=2))
        second = run(shop)  # window from the last success minus the overlap, to now
        assert second.status == "succeeded", second.error
        assert second.window_start == first.window_end - dt.timedelta(minutes=10)
        assert (second.records_created, second.records_updated) == (30 - len(in_first), 1)
        order = stored_order(state, shipped)
        assert (order.status, order.platform_status) == ("shipped", "Shipped")
        # `until` is now: clamped to two minutes before the request, as the API demands
        before = dt.datetime.fromisoformat(query_of(order_pages(state)[-1])["LastUpdatedBefore"].replace("Z", "+00:00"))
        assert before <= dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)


def test_the_same_data_twice_changes_nothing():
    with amazon(orders=40) as (shop, state):
        run(shop, **window(START, END))
        again = run(shop, **window(START, END))
        assert (again.records_seen, again.records_created, again.records_updated) == (40, 0, 0)
        assert Order.objects.filter(shop=shop).count() == 40


@pytest.mark.parametrize("faults", [[429], [500], [503, 502], [429, 500, 429]])
def test_quota_errors_and_server_errors_are_retried_until_success(faults):
    with amazon(orders=5) as (shop, state):
        state.faults = list(faults)
        result = run(shop, **window(START, END))
        assert result.status == "succeeded", result.error
        assert result.records_created == 5
        assert len(order_pages(state)) == 1 + len(faults)


def test_the_per_operation_token_buckets_429s_are_backed_off_without_retry_after(monkeypatch):
    with amazon(orders=30) as (shop, state):
        state.extra["limiters"] = {"getOrders": LeakyBucket(capacity=1, leak_per_second=50),
                                   "getOrderItems": LeakyBucket(capacity=2, leak_per_second=40)}
        monkeypatch.setattr(connector_module, "PAGE_SIZE", 5)
        result = run(shop, **window(START, END))
        assert result.status == "succeeded", result.error
        assert (result.pages, result.records_created) == (6, 30)
        assert state.extra["throttled"] > 0


def test_persistent_server_errors_fail_the_run_with_the_reason():
    with amazon(orders=5) as (shop, state):
        state.faults = [500] * 20
        result = run(shop, **window(START, END))
        assert result.status == "failed" and "HTTP 500" in result.error and "InternalFailure" in result.error
        assert not Order.objects.exists()


def test_without_an_access_token_the_run_gets_one_from_lwa_and_stores_it_with_the_shop():
    with amazon(orders=5, credentials=APP) as (shop, state):
        result = run(shop, **window(START, END))
        assert result.status == "succeeded", result.error
        assert result.records_created == 5 and len(token_requests(state)) == 1
        stored = Shop.objects.get(pk=shop.pk).credentials
        assert stored["access_token"].startswith("Atza|sandbox-") and stored["access_token_expires_at"]
        assert stored["refresh_token"] == APP["refresh_token"]
        again = run(shop, **window(START, END))
        assert again.status == "succeeded" and len(token_requests(state)) == 1  # the stored token is reused


def test_an_expired_access_token_is_refreshed_once_and_the_run_goes_on():
    with amazon(orders=5) as (shop, state):
        expire_access_tokens(state)
        result = run(shop, **window(START, END))
        assert result.status == "succeeded", result.error
        assert result.records_created == 5 and len(token_requests(state)) == 1
        assert order_pages(state)[0] == order_pages(state)[1]  # refused, then the same call again
        assert Shop.objects.get(pk=shop.pk).credentials["access_token"] != CREDENTIALS["access_token"]


def test_a_token_that_expires_in_the_middle_of_a_run_is_refreshed_there(monkeypatch):
    with amazon(orders=12) as (shop, state):
        monkeypatch.setattr(connector_module, "PAGE_SIZE", 4)
        real_store, stored_pages = collection._store_order_page, []

        def store_then_expire(*args, **kwargs):
            stored = real_store(*args, **kwargs)
            stored_pages.append(1)
            if len(stored_pages) == 1:
                expire_access_tokens(state)
            return stored

        monkeypatch.setattr(collection, "_store_order_page", store_then_expire)
        result = run(shop, **window(START, END))
        assert result.status == "succeeded", result.error
        assert (result.pages, result.records_created, len(token_requests(state))) == (3, 12, 1)


def test_a_refused_refresh_token_fails_the_run_and_marks_the_shop_for_reauthorisation():
    with amazon(orders=5, credentials={**APP, "refresh_token": "Atzr|revoked"},
                server_credentials=APP) as (shop, state):
        result = run(shop, **window(START, END))
        assert result.status == "failed" and "重新授权" in result.error and "invalid_grant" in result.error
        assert Shop.objects.get(pk=shop.pk).auth_status == Shop.AuthStatus.NEEDS_REAUTH
        assert not order_pages(state)


def test_calls_refused_even_with_a_fresh_token_end_the_run_after_one_refresh():
    with amazon(orders=5) as (shop, state):
        state.extra["revoked"] = True  # the seller removed the app's authorisation
        result = run(shop, **window(START, END))
        assert result.status == "failed" and "重新授权" in result.error and "HTTP 403" in result.error
        assert len(token_requests(state)) == 1 and len(order_pages(state)) == 2
        assert Shop.objects.get(pk=shop.pk).auth_status == Shop.AuthStatus.NEEDS_REAUTH


def test_a_malformed_record_is_quarantined_and_the_run_goes_on():
    with amazon(orders=10) as (shop, state):
        state.book.orders[3].malformed = True
        result = run(shop, **window(START, END))
        assert result.status == "succeeded"
        assert (result.records_created, result.records_quarantined) == (9, 1)
        bad = QuarantinedRecord.objects.get()
        assert bad.payload["PurchaseDate"] == "not-a-date" and bad.reason
        assert bad.external_id == amazon_order_id(state.book.orders[3], state.book.seed)


def test_a_run_killed_after_page_k_resumes_at_k_plus_1_and_stores_each_order_once(monkeypatch):
    monkeypatch.setattr(connector_module, "PAGE_SIZE", 20)
    with amazon(orders=60) as (shop, state):
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
        assert killed.status == "running" and killed.pages == 2 and killed.checkpoint["next_token"]
        assert Order.objects.count() == 40

        monkeypatch.setattr(collection, "_store_order_page", real_store)
        pages_before, items_before = len(order_pages(state)), len(item_requests(state))
        CollectionRun.objects.filter(pk=killed.pk).update(heartbeat_at=killed.heartbeat_at - dt.timedelta(hours=1))
        assert collection.collection_runs_reap() == [killed.pk]
        resumed = collection.collection_run_execute(run_id=killed.pk)
        assert resumed.status == "succeeded", resumed.error
        assert Order.objects.count() == 60 and resumed.records_created == 60
        assert len(order_pages(state)) - pages_before == 1  # only page 3 fetched again
        assert query_of(order_pages(state)[-1])["NextToken"] == killed.checkpoint["next_token"]
        assert len(item_requests(state)) - items_before == 20


def test_a_run_out_of_request_budget_is_resumed_from_its_checkpoint_by_the_next_run(settings, monkeypatch):
    monkeypatch.setattr(connector_module, "PAGE_SIZE", 20)
    settings.COLLECTION_REQUEST_BUDGET = 35  # a page and its items: 21 requests; pages 2 and 3 (21 + 11) fit
    with amazon(orders=50) as (shop, state):
        first = run(shop, **window(START, END))
        assert first.status == "failed" and "请求额度" in first.error and first.checkpoint["next_token"]
        assert Order.objects.count() == 20
        second = run(shop)
        assert second.status == "succeeded", second.error
        assert (second.window_start, second.window_end) == (START, END)
        assert Order.objects.count() == 50 and len(order_pages(state)) == 4  # pages 1, 2 | 2, 3


def test_only_one_active_run_per_shop_and_kind(django_capture_on_commit_callbacks):
    with amazon(orders=3) as (shop, state):
        with django_capture_on_commit_callbacks(execute=False):
            run_a, created_a = collection.collection_run_start(shop=shop, kind="orders")
            run_b, created_b = collection.collection_run_start(shop=shop, kind="orders")
        assert created_a and not created_b and run_a.pk == run_b.pk


def test_an_order_with_several_items_gets_unit_prices_from_the_item_price_over_the_quantity():
    with amazon(orders=8) as (shop, state):
        state.extra["items_page_size"] = 1  # every further item through the items' own NextToken
        canonical = next(o for o in state.book.orders if len(o.lines) >= 2 and o.state in ("paid", "shipped")
                         and any(line.quantity > 1 for line in o.lines))
        result = run(shop, **window(START, END))
        assert result.status == "succeeded", result.error
        order = stored_order(state, canonical)
        lines = {line.platform_sku: line for line in order.lines.all()}
        assert set(lines) == {line.sku for line in canonical.lines}
        for line in canonical.lines:
            stored = lines[line.sku]
            assert (stored.quantity, stored.unit_price, stored.line_total) == (
                line.quantity, line.unit_price, line.unit_price * line.quantity)
        assert (order.items_amount, order.total_amount) == (canonical.items_total, canonical.total)
        id_ = amazon_order_id(canonical, state.book.seed)
        assert len([r for r in item_requests(state) if id_ in r]) == len(canonical.lines)


def test_a_pending_order_without_a_total_is_stored_as_pending_and_priced_once_paid():
    with amazon(orders=1) as (shop, state):
        canonical = state.book.orders[0]
        canonical.state = "pending"
        run(shop, **window(START, END))
        order = stored_order(state, canonical)
        assert (order.status, order.platform_status, order.total_amount, order.buyer_country) == (
            "pending", "Pending", Decimal("0.00"), "")
        state.book.change(canonical.number, state="paid", at=START + dt.timedelta(days=1))
        again = run(shop, **window(START, END))
        assert (again.records_created, again.records_updated) == (0, 1)
        order.refresh_from_db()
        assert (order.status, order.platform_status, order.total_amount) == ("paid", "Unshipped", canonical.total)
        assert order.buyer_country == canonical.country and order.customer.email == canonical.email


def test_orders_fulfilled_by_amazon_do_not_move_our_stock():
    own = WarehouseFactory(kind=Warehouse.Kind.OWN)
    with amazon(orders=16, default_warehouse=own) as (shop, state):
        for sku in sorted({line.sku for o in state.book.orders for line in o.lines}):
            stock_level_set(product=ProductFactory(sku=sku), warehouse=own, on_hand=1000)  # listings map by SKU
        for order in state.book.orders:
            state.book.change(order.number, state="shipped", at=order.created_at + dt.timedelta(hours=20))
        result = run(shop, **window(START, END + dt.timedelta(days=1)))
        assert result.status == "succeeded", result.error
        fba_orders = Order.objects.filter(shop=shop, fulfillment_channel=Order.FulfillmentChannel.PLATFORM)
        own_orders = Order.objects.filter(shop=shop, fulfillment_channel=Order.FulfillmentChannel.MERCHANT)
        assert fba_orders.count() == 4 and own_orders.count() == 12
        sales = StockMovement.objects.filter(movement_type=Movement.SALE)
        assert set(sales.values_list("reference", flat=True)) == set(own_orders.values_list("order_number", flat=True))
        assert not OrderLine.objects.filter(order__in=fba_orders, stock_posted_at__isnull=False).exists()
        assert not OrderLine.objects.filter(order__in=own_orders, stock_posted_at__isnull=True).exists()


def _ledger_holds():
    for item in InventoryItem.objects.all():
        moved = sum(StockMovement.objects.filter(product=item.product, warehouse=item.warehouse)
                    .values_list("quantity", flat=True))
        assert item.on_hand == moved, item


def test_fba_stock_reconciles_the_fba_warehouse_through_platform_sync_movements():
    fba = WarehouseFactory(kind=Warehouse.Kind.FBA, country="US")
    with amazon(default_warehouse=fba) as (shop, state):
        state.extra["inventory_page_size"] = 2
        brush, comb = ProductFactory(), ProductFactory()
        ListingFactory(shop=shop, platform_sku="SB-001", product=brush)
        ListingFactory(shop=shop, platform_sku="SB-002", product=comb)
        unmapped = ListingFactory(shop=shop, platform_sku="SB-003", product=None)
        stock_level_set(product=comb, warehouse=fba, on_hand=5)
        state.stock = {"SB-001": 12, "SB-002": 0, "SB-003": 4, "SB-009": 7}
        result = run(shop, kind="inventory")
        assert result.status == "succeeded", result.error
        summaries = requests_to(state, "/fba/inventory/v1/summaries")
        assert len(summaries) == 2 and "nextToken=" in summaries[1]
        assert query_of(summaries[0]) == {"granularityType": "Marketplace", "granularityId": MARKETPLACE,
                                          "marketplaceIds": MARKETPLACE, "details": "true"}
        on_hand = {i.product_id: i.on_hand for i in InventoryItem.objects.filter(warehouse=fba)}
        assert on_hand == {brush.pk: 12, comb.pk: 0}
        syncs = StockMovement.objects.filter(movement_type=Movement.PLATFORM_SYNC)
        assert sorted(syncs.values_list("quantity", flat=True)) == [-5, 12]
        unmapped.refresh_from_db()
        assert unmapped.platform_stock == 4 and not Listing.objects.filter(platform_sku="SB-009").exists()
        _ledger_holds()

        state.stock["SB-001"] = 9
        run(shop, kind="inventory")
        run(shop, kind="inventory")  # the same figures again: nothing moves
        assert InventoryItem.objects.get(product=brush, warehouse=fba).on_hand == 9
        assert sorted(syncs.values_list("quantity", flat=True)) == [-5, -3, 12]
        _ledger_holds()


def test_listings_come_from_the_fba_inventory_summaries():
    with amazon() as (shop, state):
        state.stock = {"SB-001": 3, "SB-002": 0}
        result = run(shop, kind="products")
        assert result.status == "succeeded", result.error
        listings = {item.platform_sku: item for item in Listing.objects.filter(shop=shop)}
        assert {sku: (item.platform_item_id, item.title, item.platform_stock) for sku, item in listings.items()} == {
            "SB-001": (asin("SB-001"), "Sandbox item SB-001", 3), "SB-002": (asin("SB-002"), "Sandbox item SB-002", 0)}
        assert all(item.product_id is None for item in listings.values())  # they wait in the pairing queue


def test_test_connection_checks_the_credentials():
    with amazon(credentials=APP) as (shop, state):
        assert collection.shop_test_connection(shop=shop) == (True, "Amazon.com")
    with amazon(credentials={**APP, "client_secret": "wrong"}, server_credentials=APP) as (shop, state):
        ok, message = collection.shop_test_connection(shop=shop)
        assert not ok and "invalid_client" in message
        assert Shop.objects.get(pk=shop.pk).auth_status == Shop.AuthStatus.NEEDS_REAUTH


# The contract server itself ----------------------------------------------------------------------

def test_the_token_endpoint_takes_form_and_json_bodies():
    with amazon() as (shop, state):
        form = {"grant_type": "refresh_token", **{k: APP[k] for k in ("refresh_token", "client_id", "client_secret")}}
        as_form = httpx.post(f"{shop.api_base_url}/auth/o2/token", data=form)
        as_json = httpx.post(f"{shop.api_base_url}/auth/o2/token", json=form)
        assert as_form.status_code == as_json.status_code == 200
        assert as_json.json()["token_type"] == "bearer" and as_json.json()["expires_in"] == 3600
        bad = httpx.post(f"{shop.api_base_url}/auth/o2/token", json={**form, "refresh_token": "Atzr|x"})
        assert (bad.status_code, bad.json()["error"]) == (400, "invalid_grant")


@pytest.mark.parametrize("params, problem", [
    ({"LastUpdatedAfter": "2025-03-01T00:00:00Z", "CreatedAfter": "2025-03-01T00:00:00Z"}, "Exactly one"),
    ({}, "Exactly one"),
    ({"LastUpdatedAfter": "2025-03-01T00:00:00Z", "MaxResultsPerPage": "101"}, "between 1 and 100"),
    ({"LastUpdatedAfter": "2025-03-01T00:00:00Z", "LastUpdatedBefore": "now"}, "two minutes"),
    ({"LastUpdatedAfter": "2025-03-02T00:00:00Z", "LastUpdatedBefore": "2025-03-01T00:00:00Z"}, "later than"),
])
def test_get_orders_rejects_invalid_filters_with_invalid_input(params, problem):
    params = dict(params)
    with amazon() as (shop, state):
        if params.get("LastUpdatedBefore") == "now":
            params["LastUpdatedBefore"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        response = httpx.get(f"{shop.api_base_url}/orders/v0/orders", params={"MarketplaceIds": MARKETPLACE, **params},
                             headers={"x-amz-access-token": CREDENTIALS["access_token"]})
        assert response.status_code == 400
        error = response.json()["errors"][0]
        assert error["code"] == "InvalidInput" and problem in error["message"]


def test_error_bodies_follow_the_sp_api_shape():
    with amazon() as (shop, state):
        url = f"{shop.api_base_url}/orders/v0/orders"
        expire_access_tokens(state)
        expired = httpx.get(url, params={"MarketplaceIds": MARKETPLACE},
                            headers={"x-amz-access-token": CREDENTIALS["access_token"]})
        assert expired.status_code == 403 and expired.json() == {"errors": [{
            "code": "Unauthorized", "message": "Access to requested resource is denied.",
            "details": "The access token you provided has expired."}]}
        state.faults = [429]
        quota = httpx.get(url)
        assert quota.status_code == 429 and "Retry-After" not in quota.headers
        assert quota.json()["errors"][0]["code"] == "QuotaExceeded"


# Cleaning ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, ours", [
    ("Pending", "pending"), ("PendingAvailability", "pending"), ("Unshipped", "paid"), ("PartiallyShipped", "paid"),
    ("Shipped", "shipped"), ("InvoiceUnconfirmed", "shipped"),
    ("Canceled", "cancelled"), ("Unfulfillable", "cancelled"),
])
def test_order_statuses_map_to_ours(raw, ours):
    assert order_status(raw) == ours


def test_an_unknown_status_is_a_cleaning_error():
    with pytest.raises(CleaningError):
        order_status("Lost")


def test_the_token_url_is_lwa_for_amazon_hosts_and_the_server_itself_otherwise():
    assert token_url("https://sellingpartnerapi-eu.amazon.com", {}) == "https://api.amazon.com/auth/o2/token"
    assert token_url("http://127.0.0.1:8123/", {}) == "http://127.0.0.1:8123/auth/o2/token"
    assert token_url("http://127.0.0.1:8123", {"token_url": "http://lwa.test/t"}) == "http://lwa.test/t"


def _collector():
    return AmazonCollector(ShopContext(shop_id=1, base_url="http://sandbox.test", credentials=APP, currency="EUR",
                                       fee_rate=Decimal("0.15")))


def _money(amount):
    return {"CurrencyCode": "EUR", "Amount": amount}


def test_normalizing_sums_the_items_and_merges_a_repeated_sku():
    record = {
        "AmazonOrderId": "302-1234567-7654321", "PurchaseDate": "2025-03-02T10:00:00Z",
        "LastUpdateDate": "2025-03-03T10:00:00Z", "OrderStatus": "Unshipped", "FulfillmentChannel": "MFN",
        "OrderTotal": _money("31.49"), "ShippingAddress": {"CountryCode": "de"},
        "BuyerInfo": {"BuyerEmail": "x1y2@marketplace.amazon.de"},
        "OrderItems": [
            {"SellerSKU": "MUG", "ASIN": "B000000001", "QuantityOrdered": 3, "ItemPrice": _money("10.00"),
             "ShippingPrice": _money("4.99"), "ItemTax": _money("1.50"), "PromotionDiscount": _money("-2.00")},
            {"SellerSKU": "CUP", "ASIN": "B000000002", "QuantityOrdered": 0, "ItemPrice": _money("0.00")},
            {"SellerSKU": "MUG", "ASIN": "B000000001", "QuantityOrdered": 1, "ItemPrice": _money("17.00")},
        ],
    }
    data = _collector().normalize_order(record)
    (line,) = data.lines
    assert (line.platform_sku, line.quantity, line.line_total, line.unit_price) == (
        "MUG", 4, Decimal("27.00"), Decimal("6.75"))
    assert (data.items_amount, data.shipping_amount, data.tax_amount, data.discount_amount, data.total_amount) == (
        Decimal("27.00"), Decimal("4.99"), Decimal("1.50"), Decimal("2.00"), Decimal("31.49"))
    assert (data.status, data.platform_status, data.currency, data.buyer_country) == ("paid", "Unshipped", "EUR", "DE")
    assert data.platform_fee == Decimal("4.72") and data.customer.email == "x1y2@marketplace.amazon.de"


def test_a_unit_price_is_rounded_half_up_from_the_price_of_the_whole_quantity():
    record = {"AmazonOrderId": "302-1234567-7654322", "PurchaseDate": "2025-03-02T10:00:00Z",
              "OrderStatus": "Shipped", "FulfillmentChannel": "AFN", "OrderTotal": _money("10.00"),
              "OrderItems": [{"SellerSKU": "PEN", "QuantityOrdered": 3, "ItemPrice": _money("10.00")}]}
    data = _collector().normalize_order(record)
    assert (data.lines[0].unit_price, data.lines[0].line_total) == (Decimal("3.33"), Decimal("10.00"))
    assert data.fulfillment_channel == Order.FulfillmentChannel.PLATFORM


@pytest.mark.parametrize("change, reason", [
    ({"OrderTotal": {"CurrencyCode": "EUR", "Amount": "abc"}}, "OrderTotal"),
    ({"PurchaseDate": None}, "PurchaseDate"),
    ({"OrderItems": []}, "商品行"),
    ({"OrderTotal": {"CurrencyCode": "USD", "Amount": "10.00"}}, "币种"),
    ({"OrderStatus": "Lost"}, "状态"),
])
def test_malformed_orders_are_cleaning_errors(change, reason):
    record = {"AmazonOrderId": "302-1234567-7654323", "PurchaseDate": "2025-03-02T10:00:00Z",
              "OrderStatus": "Shipped", "OrderTotal": _money("10.00"),
              "OrderItems": [{"SellerSKU": "PEN", "QuantityOrdered": 1, "ItemPrice": _money("10.00")}], **change}
    with pytest.raises(CleaningError, match=reason):
        _collector().normalize_order(record)
