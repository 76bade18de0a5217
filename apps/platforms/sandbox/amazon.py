"""Amazon SP-API contract (shared/contracts/amazon.md): the LWA token endpoint (form or JSON body)
on the same server at /auth/o2/token, `x-amz-access-token` checked on every call (403
Unauthorized, "has expired" for an expired token), Orders v0 getOrders with its validation
(exactly one of CreatedAfter/LastUpdatedAfter, LastUpdatedBefore at least two minutes old,
MaxResultsPerPage 1–100, NextToken keeping the original filters), getOrderItems with its own
NextToken, FBA inventory summaries with a 30-second nextToken, per-operation token buckets
answering 429 QuotaExceeded without Retry-After, and SP-API error bodies.

Knobs (SandboxState.extra): marketplace_id, sales_channel, afn (set of order numbers fulfilled
by Amazon; default every fourth order), token_ttl (seconds), expired_tokens, revoked (every API
call refused), limiters (operation → LeakyBucket; see default_rate_limits()), items_page_size,
inventory_page_size, inventory_token_ttl. Stock comes from `state.stock` (sellerSku → fulfillable).
Counters for tests: throttled (429s served), last_headers (headers of the last API call)."""
import base64
import datetime as dt
import hashlib
import json
import re
import secrets
import threading
import time
from urllib.parse import parse_qs

from .core import CanonicalOrder, ContractHandler, LeakyBucket, SandboxState

DEFAULT_MARKETPLACE = "ATVPDKIKX0DER"
TOKEN_PATH = "/auth/o2/token"
ORDERS_PATH = "/orders/v0/orders"
INVENTORY_PATH = "/fba/inventory/v1/summaries"
_ITEMS_PATH = re.compile(r"^/orders/v0/orders/([^/]+)/orderItems$")
_ORDER_PATH = re.compile(r"^/orders/v0/orders/([^/]+)$")
_ORDER_ID = re.compile(r"^(\d{3})-(\d{7})-(\d{7})$")
STATUS = {"pending": "Pending", "paid": "Unshipped", "shipped": "Shipped", "delivered": "Shipped",
          "cancelled": "Canceled", "partially_refunded": "Shipped", "refunded": "Shipped"}
# Documented default rates: (burst, requests per second).
RATES = {"getOrders": (20, 0.0167), "getOrder": (20, 0.5), "getOrderItems": (30, 0.5),
         "getInventorySummaries": (2, 2.0)}
FILTERS = ("CreatedAfter", "CreatedBefore", "LastUpdatedAfter", "LastUpdatedBefore", "OrderStatuses",
           "FulfillmentChannels", "MaxResultsPerPage")
_tokens_lock = threading.Lock()


def default_rate_limits(speedup: float = 1.0) -> dict[str, LeakyBucket]:
    """The documented per-operation token buckets (a leaky bucket of capacity = burst, leaking at
    the rate, is the same thing); `speedup` multiplies the rates for a livelier demo."""
    return {op: LeakyBucket(capacity=burst, leak_per_second=rate * speedup) for op, (burst, rate) in RATES.items()}


def expire_access_tokens(state: SandboxState) -> None:
    """Every access token issued so far (and the configured one) now answers "has expired"."""
    with _tokens_lock:
        expired = state.extra.setdefault("expired_tokens", set())
        if state.credentials.get("access_token"):
            expired.add(state.credentials.pop("access_token"))
        issued = state.extra.setdefault("issued_tokens", {})
        expired.update(issued)
        issued.clear()


def amazon_order_id(order: CanonicalOrder, seed: int) -> str:
    return f"{100 + seed % 900:03d}-{order.number:07d}-{(order.number * 7_654_321 + seed) % 10_000_000:07d}"


def _digest(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest().upper()


def asin(sku: str) -> str:
    return "B0" + _digest(sku)[:8]


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _money(amount, currency: str) -> dict:
    return {"CurrencyCode": currency, "Amount": f"{amount:.2f}"}


def is_afn(order: CanonicalOrder, state: SandboxState) -> bool:
    afn = state.extra.get("afn")
    return order.number in afn if afn is not None else order.number % 4 == 0


def render_order(order: CanonicalOrder, state: SandboxState) -> dict:
    status = STATUS[order.state]
    record = {
        "AmazonOrderId": amazon_order_id(order, state.book.seed),
        "PurchaseDate": _iso(order.created_at),
        "LastUpdateDate": _iso(order.updated_at),
        "OrderStatus": status,
        "FulfillmentChannel": "AFN" if is_afn(order, state) else "MFN",
        "SalesChannel": state.extra.get("sales_channel", "Amazon.com"),
        "MarketplaceId": state.extra.get("marketplace_id", DEFAULT_MARKETPLACE),
        "OrderType": "StandardOrder",
        "NumberOfItemsShipped": sum(line.quantity for line in order.lines) if status == "Shipped" else 0,
        "NumberOfItemsUnshipped": 0 if status == "Shipped" else sum(line.quantity for line in order.lines),
        "IsPrime": False, "IsBusinessOrder": False,
    }
    if status != "Pending":  # no price and no address before the payment is authorised
        record["OrderTotal"] = _money(order.total, order.currency)
        record["ShippingAddress"] = {"CountryCode": order.country, "City": "Sandbox City"}
        record["BuyerInfo"] = {"BuyerEmail": order.email}
    if order.malformed:
        record.update({"PurchaseDate": "not-a-date", "OrderTotal": {"CurrencyCode": order.currency, "Amount": "abc"}})
    return record


def render_items(order: CanonicalOrder, state: SandboxState) -> list[dict]:
    priced = order.state != "pending"
    shipped = STATUS[order.state] == "Shipped"
    items = []
    for index, line in enumerate(order.lines):
        item = {
            "ASIN": asin(line.sku), "SellerSKU": line.sku, "OrderItemId": f"{int(line.line_id):014d}",
            "Title": line.title, "QuantityOrdered": line.quantity, "QuantityShipped": line.quantity if shipped else 0,
            "ProductInfo": {"NumberOfItems": "1"}, "IsGift": "false",
        }
        if priced:
            first = index == 0  # the order's shipping, tax and discount travel on its first item
            item.update({
                "ItemPrice": _money(line.unit_price * line.quantity, order.currency),
                "ShippingPrice": _money(order.shipping if first else 0, order.currency),
                "ItemTax": _money(order.tax if first else 0, order.currency),
                "ShippingTax": _money(0, order.currency),
                "PromotionDiscount": _money(order.discount if first else 0, order.currency),
                "ShippingDiscount": _money(0, order.currency),
            })
        items.append(item)
    return items


def render_summary(sku: str, fulfillable: int, details: bool) -> dict:
    digest = _digest(sku)
    reserved, inbound = int(digest[:2], 16) % 3, int(digest[2:4], 16) % 5
    summary = {"asin": asin(sku), "fnSku": "X00" + digest[8:15], "sellerSku": sku, "condition": "NewItem",
               "productName": f"Sandbox item {sku}", "lastUpdatedTime": _iso(dt.datetime.now(dt.UTC)),
               "totalQuantity": fulfillable + reserved + inbound}
    if details:
        summary["inventoryDetails"] = {
            "fulfillableQuantity": fulfillable, "inboundWorkingQuantity": 0, "inboundShippedQuantity": inbound,
            "inboundReceivingQuantity": 0,
            "reservedQuantity": {"totalReservedQuantity": reserved, "pendingCustomerOrderQuantity": reserved,
                                 "pendingTransshipmentQuantity": 0, "fcProcessingQuantity": 0},
            "researchingQuantity": {"totalResearchingQuantity": 0, "researchingQuantityBreakdown": []},
            "unfulfillableQuantity": {"totalUnfulfillableQuantity": 0, "customerDamagedQuantity": 0,
                                      "warehouseDamagedQuantity": 0, "distributorDamagedQuantity": 0,
                                      "carrierDamagedQuantity": 0, "defectiveQuantity": 0, "expiredQuantity": 0},
        }
    return summary


def _encode(payload: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def _decode(token: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


class InvalidInput(Exception):
    pass


def _time(query: dict, name: str) -> dt.datetime | None:
    value = query.get(name)
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(f"{name} is not a valid ISO 8601 date time: {value}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _error(status: int, code: str, message: str, details: str = "", headers: dict | None = None):
    return status, {"errors": [{"code": code, "message": message, "details": details}]}, headers or {}


class AmazonHandler(ContractHandler):
    def fault_response(self, status: int):
        if status == 429:
            return _error(429, "QuotaExceeded", "You exceeded your quota for the requested resource.")
        if status == 503:
            return _error(503, "ServiceUnavailable", "Service temporarily unavailable.")
        return _error(status, "InternalFailure", "We encountered an internal error. Please try again.")

    def route(self, method, path, query, body):
        state: SandboxState = self.sandbox
        if method == "POST" and path == TOKEN_PATH:
            return self._token(body)
        operation = self._operation(method, path)
        if operation is None:
            return _error(404, "NotFound", "The requested resource was not found.")
        state.extra["last_headers"] = {k.lower(): v for k, v in self.headers.items()}
        refused = self._auth_problem(self.headers.get("x-amz-access-token"))
        if refused:
            return _error(403, "Unauthorized", "Access to requested resource is denied.", refused)
        headers = {"x-amzn-RequestId": secrets.token_hex(16)}
        for limiter, rate in self._limiters(operation):
            allowed, _, _ = limiter.take()
            if not allowed:
                state.extra["throttled"] = state.extra.get("throttled", 0) + 1
                return _error(429, "QuotaExceeded", "You exceeded your quota for the requested resource.",
                              headers=headers)
            headers["x-amzn-RateLimit-Limit"] = f"{rate:g}"
        try:
            status, payload = getattr(self, f"_{operation}")(path, query)
        except InvalidInput as exc:
            return _error(400, "InvalidInput", str(exc), headers=headers)
        return status, payload, headers

    @staticmethod
    def _operation(method: str, path: str) -> str | None:
        if method != "GET":
            return None
        if path == ORDERS_PATH:
            return "getOrders"
        if _ITEMS_PATH.match(path):
            return "getOrderItems"
        if _ORDER_PATH.match(path):
            return "getOrder"
        if path == INVENTORY_PATH:
            return "getInventorySummaries"
        return None

    def _limiters(self, operation: str):
        state: SandboxState = self.sandbox
        if state.limiter is not None:
            yield state.limiter, state.limiter.leak
        limiter = (state.extra.get("limiters") or {}).get(operation)
        if limiter is not None:
            yield limiter, limiter.leak

    # Login with Amazon ----------------------------------------------------------------------------

    def _token(self, body: bytes):
        state: SandboxState = self.sandbox
        try:
            if "json" in (self.headers.get("Content-Type") or ""):
                form = json.loads(body or b"{}")
            else:
                form = {k: v[-1] for k, v in parse_qs(body.decode()).items()}
        except (ValueError, UnicodeDecodeError):
            form = None
        if not isinstance(form, dict):
            return 400, {"error": "invalid_request", "error_description": "Malformed request body"}, {}
        if form.get("grant_type") != "refresh_token":
            return 400, {"error": "unsupported_grant_type", "error_description": "Only refresh_token is supported"}, {}
        if (form.get("client_id") != state.credentials.get("client_id")
                or form.get("client_secret") != state.credentials.get("client_secret")):
            return 401, {"error": "invalid_client", "error_description": "Client authentication failed"}, {}
        if not form.get("refresh_token") or form.get("refresh_token") != state.credentials.get("refresh_token"):
            return 400, {"error": "invalid_grant",
                         "error_description": "The request has an invalid grant parameter : refresh_token"}, {}
        ttl = int(state.extra.get("token_ttl", 3600))
        token = f"Atza|sandbox-{secrets.token_urlsafe(24)}"
        with _tokens_lock:
            state.extra.setdefault("issued_tokens", {})[token] = time.time() + ttl
        return 200, {"access_token": token, "token_type": "bearer", "expires_in": ttl,
                     "refresh_token": state.credentials["refresh_token"]}, {}

    def _auth_problem(self, token: str | None) -> str | None:
        state: SandboxState = self.sandbox
        if not token:
            return "Missing access token."
        with _tokens_lock:
            issued = state.extra.get("issued_tokens", {})
            if token in state.extra.get("expired_tokens", ()) or (token in issued and issued[token] <= time.time()):
                return "The access token you provided has expired."
            valid = token in issued or token == state.credentials.get("access_token")
        if not valid or state.extra.get("revoked"):
            return "The access token you provided is revoked, malformed or invalid."
        return None

    # Orders --------------------------------------------------------------------------------------

    def _marketplace_checked(self, value: str | None) -> str:
        marketplace = self.sandbox.extra.get("marketplace_id", DEFAULT_MARKETPLACE)
        ids = [v for v in (value or "").split(",") if v]
        if not ids:
            raise InvalidInput("MarketplaceIds is required.")
        if len(ids) > 50:
            raise InvalidInput("MarketplaceIds may hold at most 50 values.")
        if marketplace not in ids:
            raise InvalidInput(f"Invalid Input: MarketplaceIds {','.join(ids)} not known for this seller.")
        return marketplace

    def _getOrders(self, path, query):
        state: SandboxState = self.sandbox
        self._marketplace_checked(query.get("MarketplaceIds"))
        if query.get("NextToken"):
            try:
                cursor = _decode(query["NextToken"])
                filters, offset = cursor["f"], int(cursor["o"])
            except (ValueError, KeyError, TypeError) as exc:
                raise InvalidInput("Invalid NextToken.") from exc
        else:
            filters = {k: query[k] for k in FILTERS if query.get(k)}
            self._validate(filters)
            offset = 0
        limit = int(filters.get("MaxResultsPerPage", 100))
        rows = self._select(filters)
        page = rows[offset:offset + limit]
        payload = {"Orders": [render_order(o, state) for o in page]}
        if offset + limit < len(rows):
            payload["NextToken"] = _encode({"f": filters, "o": offset + limit})
        if "LastUpdatedAfter" in filters:
            payload["LastUpdatedBefore"] = filters.get("LastUpdatedBefore") or _iso(self._latest())
        else:
            payload["CreatedBefore"] = filters.get("CreatedBefore") or _iso(self._latest())
        return 200, {"payload": payload}

    @staticmethod
    def _latest() -> dt.datetime:
        return dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)

    def _validate(self, filters: dict) -> None:
        created, updated = "CreatedAfter" in filters, "LastUpdatedAfter" in filters
        if created == updated:
            raise InvalidInput("Exactly one of CreatedAfter and LastUpdatedAfter must be specified.")
        if created and "LastUpdatedBefore" in filters or updated and "CreatedBefore" in filters:
            raise InvalidInput("CreatedBefore goes with CreatedAfter, LastUpdatedBefore with LastUpdatedAfter.")
        try:
            limit = int(filters.get("MaxResultsPerPage", 100))
        except ValueError as exc:
            raise InvalidInput("MaxResultsPerPage must be an integer.") from exc
        if not 1 <= limit <= 100:
            raise InvalidInput("MaxResultsPerPage must be between 1 and 100.")
        prefix = "Created" if created else "LastUpdated"
        after, before = _time(filters, f"{prefix}After"), _time(filters, f"{prefix}Before")
        if after > self._latest():
            raise InvalidInput(f"{prefix}After must be at least two minutes before the time of the request.")
        if before is not None:
            if before < after:
                raise InvalidInput(f"{prefix}Before must be later than {prefix}After.")
            if before > self._latest():
                raise InvalidInput(f"{prefix}Before must be at least two minutes before the time of the request.")

    def _select(self, filters: dict) -> list[CanonicalOrder]:
        state: SandboxState = self.sandbox
        if "LastUpdatedAfter" in filters:
            rows = state.book.updated_between(_time(filters, "LastUpdatedAfter"), _time(filters, "LastUpdatedBefore"))
        else:
            after, before = _time(filters, "CreatedAfter"), _time(filters, "CreatedBefore")
            with state.book.lock:
                rows = sorted((o for o in state.book.orders
                               if o.created_at >= after and (before is None or o.created_at < before)),
                              key=lambda o: (o.created_at, o.number))
        if filters.get("OrderStatuses"):
            wanted = set(filters["OrderStatuses"].split(","))
            rows = [o for o in rows if STATUS[o.state] in wanted]
        if filters.get("FulfillmentChannels"):
            wanted = set(filters["FulfillmentChannels"].split(","))
            rows = [o for o in rows if ("AFN" if is_afn(o, state) else "MFN") in wanted]
        return rows

    def _find(self, order_id: str) -> CanonicalOrder:
        state: SandboxState = self.sandbox
        match = _ORDER_ID.match(order_id)
        if match:
            number = int(match.group(2))
            with state.book.lock:
                for order in state.book.orders:
                    if order.number == number and amazon_order_id(order, state.book.seed) == order_id:
                        return order
        raise InvalidInput(f"Invalid AmazonOrderId: {order_id}")

    def _getOrder(self, path, query):
        order = self._find(_ORDER_PATH.match(path).group(1))
        return 200, {"payload": render_order(order, self.sandbox)}

    def _getOrderItems(self, path, query):
        order_id = _ITEMS_PATH.match(path).group(1)
        order = self._find(order_id)
        size = int(self.sandbox.extra.get("items_page_size", 100))
        offset = 0
        if query.get("NextToken"):
            try:
                cursor = _decode(query["NextToken"])
                offset = int(cursor["o"]) if cursor["id"] == order_id else -1
            except (ValueError, KeyError, TypeError):
                offset = -1
            if offset < 0:
                raise InvalidInput("Invalid NextToken.")
        items = render_items(order, self.sandbox)
        payload = {"AmazonOrderId": order_id, "OrderItems": items[offset:offset + size]}
        if offset + size < len(items):
            payload["NextToken"] = _encode({"id": order_id, "o": offset + size})
        return 200, {"payload": payload}

    # FBA inventory -------------------------------------------------------------------------------

    def _getInventorySummaries(self, path, query):
        state: SandboxState = self.sandbox
        marketplace = state.extra.get("marketplace_id", DEFAULT_MARKETPLACE)
        if query.get("granularityType") != "Marketplace":
            raise InvalidInput("granularityType must be Marketplace.")
        if query.get("granularityId") != marketplace or query.get("marketplaceIds") != marketplace:
            raise InvalidInput("granularityId and marketplaceIds must name the seller's marketplace.")
        offset = 0
        if query.get("nextToken"):
            try:
                cursor = _decode(query["nextToken"])
                offset, issued = int(cursor["o"]), float(cursor["t"])
            except (ValueError, KeyError, TypeError) as exc:
                raise InvalidInput("Invalid nextToken.") from exc
            if time.time() - issued > float(state.extra.get("inventory_token_ttl", 30)):
                raise InvalidInput("The nextToken has expired.")
        size = int(state.extra.get("inventory_page_size", 50))
        stock = sorted(state.stock.items())
        details = query.get("details") == "true"
        body = {"payload": {"granularity": {"granularityType": "Marketplace", "granularityId": marketplace},
                            "inventorySummaries": [render_summary(sku, qty, details)
                                                   for sku, qty in stock[offset:offset + size]]}}
        if offset + size < len(stock):
            body["pagination"] = {"nextToken": _encode({"o": offset + size, "t": time.time()})}
        return 200, body
