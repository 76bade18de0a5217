"""eBay Sell Fulfillment contract (shared/contracts/ebay.md): Bearer user access tokens, the OAuth
refresh-token grant on /identity/v1/oauth2/token (Basic client_id:client_secret), getOrders with a
percent-encoded `filter` (lastmodifieddate / creationdate ranges, orderfulfillmentstatus set),
limit (≤ 200) + offset paging with {href, limit, next, offset, orders, prev, total, warnings},
eBay-style `{"errors": [...]}` bodies, and 429s from an optional rate limiter (no Retry-After: the
real numbers and headers are unverified). Also the Sell Inventory `inventory_item` list for listings
and stock.

Amounts: `lineItemCost` is the cost of the whole line (unit price × quantity), as eBay documents it;
`pricingSummary.total` = priceSubtotal + deliveryCost + tax − discount."""
import base64
import datetime as dt
import itertools
import re
from decimal import Decimal
from urllib.parse import parse_qs, urlencode

from .core import CanonicalOrder, ContractHandler, SandboxState

ORDERS_PATH = "/sell/fulfillment/v1/order"
INVENTORY_PATH = "/sell/inventory/v1/inventory_item"
TOKEN_PATH = "/identity/v1/oauth2/token"
MAX_LIMIT = 200
GRANTED_SCOPES = {
    "https://api.ebay.com/oauth/api_scope",
    "https://api.ebay.com/oauth/api_scope/sell.fulfillment",
    "https://api.ebay.com/oauth/api_scope/sell.fulfillment.readonly",
    "https://api.ebay.com/oauth/api_scope/sell.inventory",
    "https://api.ebay.com/oauth/api_scope/sell.inventory.readonly",
}
# canonical state → (orderFulfillmentStatus, orderPaymentStatus)
_STATUSES = {
    "pending": ("NOT_STARTED", "PENDING"),
    "paid": ("NOT_STARTED", "PAID"),
    "shipped": ("FULFILLED", "PAID"),
    "delivered": ("FULFILLED", "PAID"),
    "cancelled": ("NOT_STARTED", "FULLY_REFUNDED"),
    "partially_refunded": (None, "PARTIALLY_REFUNDED"),
    "refunded": (None, "FULLY_REFUNDED"),
}
_token_numbers = itertools.count(1)


def ebay_time(moment: dt.datetime | None) -> str | None:
    """eBay's timestamp form: UTC with milliseconds and a Z, e.g. 2016-05-15T08:25:43.511Z."""
    if moment is None:
        return None
    moment = moment.astimezone(dt.UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def _amount(value: Decimal, currency: str) -> dict:
    return {"value": f"{value:.2f}", "currency": currency}


def order_id(seed: int, number: int) -> str:
    return f"{seed:02d}-{number:05d}-{number * 7919 % 100_000:05d}"


def render_order(order: CanonicalOrder, seed: int) -> dict:
    cur = order.currency
    if order.malformed:
        return {"orderId": f"BAD-{order_id(seed, order.number)}", "creationDate": "not-a-date",
                "lastModifiedDate": ebay_time(order.updated_at),
                "pricingSummary": {"total": {"value": "abc", "currency": cur}}, "lineItems": []}
    fulfillment, payment = _STATUSES[order.state]
    if fulfillment is None:
        fulfillment = "FULFILLED" if order.shipped_at else "NOT_STARTED"
    refunded = order.total if order.state == "cancelled" else order.refunded
    refunds = [{"refundId": f"R{order.number}", "refundStatus": "REFUNDED", "refundDate": ebay_time(order.updated_at),
                "amount": _amount(refunded, cur)}] if refunded else []
    pricing = {"priceSubtotal": _amount(order.items_total, cur), "deliveryCost": _amount(order.shipping, cur),
               "tax": _amount(order.tax, cur), "total": _amount(order.total, cur)}
    if order.discount:
        pricing["priceDiscount"] = _amount(-order.discount, cur)
    return {
        "orderId": order_id(seed, order.number),
        "legacyOrderId": f"{110_000_000_000 + order.number}-{order.number}",
        "creationDate": ebay_time(order.created_at),
        "lastModifiedDate": ebay_time(order.updated_at),
        "orderFulfillmentStatus": fulfillment,
        "orderPaymentStatus": payment,
        "sellerId": "sandbox_seller",
        "buyer": {"username": f"buyer_{order.buyer_id}",
                  "buyerRegistrationAddress": {"fullName": order.name, "email": order.email}},
        "cancelStatus": {"cancelState": "CANCELED" if order.state == "cancelled" else "NONE_REQUESTED",
                         "cancelRequests": [],
                         **({"cancelledDate": ebay_time(order.updated_at)} if order.state == "cancelled" else {})},
        "pricingSummary": pricing,
        "paymentSummary": {
            "payments": [] if payment == "PENDING" else [
                {"paymentMethod": "EBAY", "paymentStatus": "PAID", "paymentDate": ebay_time(order.created_at),
                 "amount": _amount(order.total, cur)}],
            "refunds": refunds,
            "totalDueSeller": _amount(order.total - refunded, cur),
        },
        "fulfillmentStartInstructions": [{
            "fulfillmentInstructionsType": "SHIP_TO",
            "shippingStep": {"shipTo": {"fullName": order.name, "contactAddress": {"countryCode": order.country}}},
        }],
        "lineItems": [
            {"lineItemId": f"{seed}{line.line_id}", "legacyItemId": f"3{line.line_id}", "sku": line.sku,
             "title": line.title, "quantity": line.quantity,
             "lineItemCost": _amount(line.unit_price * line.quantity, cur),
             "lineItemFulfillmentStatus": fulfillment}
            for line in order.lines
        ],
    }


def errors(error_id: int, message: str, *, domain: str = "API_FULFILLMENT", category: str = "REQUEST", **more) -> dict:
    return {"errors": [{"errorId": error_id, "domain": domain, "category": category, "message": message, **more}]}


INVALID_FILTER = errors(30700, "Invalid filter")
_FILTER_ITEM = re.compile(r"(?P<name>[a-z]+):(?P<value>\[[^\[\]]*\]|\{[^{}]*\})")
_FULFILLMENT = {"NOT_STARTED", "IN_PROGRESS", "FULFILLED"}


def _filter_time(text: str) -> dt.datetime:
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z", text):
        raise ValueError(text)
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def parse_filter(text: str) -> dict:
    """`lastmodifieddate:[a..b],orderfulfillmentstatus:{A|B}` → {name: (start, end) or set}; ValueError
    when anything in it is not understood."""
    parsed: dict = {}
    position = 0
    while position < len(text):
        match = _FILTER_ITEM.match(text, position)
        if not match:
            raise ValueError(text)
        name, value = match["name"], match["value"]
        if name in ("lastmodifieddate", "creationdate"):
            if not value.startswith("[") or ".." not in value:
                raise ValueError(value)
            start, _, end = value[1:-1].partition("..")
            if not start and not end:
                raise ValueError(value)
            bounds = (_filter_time(start) if start else None, _filter_time(end) if end else None)
            if bounds[0] and bounds[1] and bounds[0] > bounds[1]:
                raise ValueError(value)
            parsed[name] = bounds
        elif name == "orderfulfillmentstatus":
            wanted = set(value.strip("{}").split("|")) if value.startswith("{") else set()
            if not wanted or not wanted <= _FULFILLMENT:
                raise ValueError(value)
            parsed[name] = wanted
        else:
            raise ValueError(name)
        if name in ("lastmodifieddate", "creationdate") and len([k for k in parsed if k.endswith("date")]) > 1:
            raise ValueError("only one date filter")
        position = match.end()
        if position < len(text):
            if text[position] != ",":
                raise ValueError(text)
            position += 1
    return parsed


def _within(moment: dt.datetime, bounds: tuple) -> bool:
    start, end = bounds
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)  # eBay keeps milliseconds
    return (start is None or moment >= start) and (end is None or moment <= end)


def _paging(query: dict, default_limit: int) -> tuple[int, int]:
    limit = int(query.get("limit") or default_limit)
    offset = int(query.get("offset") or 0)
    if not 1 <= limit <= MAX_LIMIT:
        raise LookupError(f"Invalid value {limit} for the limit field. The limit must be between 1 and {MAX_LIMIT}.")
    if offset < 0:
        raise LookupError(f"Invalid value {offset} for the offset field.")
    return limit, offset


class EbayHandler(ContractHandler):
    def fault_response(self, status: int):
        if status == 429:
            return 429, errors(2001, "Too many requests. The request limit has been reached for the resource.",
                               domain="ACCESS"), {}
        return status, errors(2003, "There was a problem with an eBay internal system or process.",
                              domain="ACCESS", category="APPLICATION"), {}

    def route(self, method, path, query, body):
        state: SandboxState = self.sandbox
        if path == TOKEN_PATH:
            return self._token(method, body) if method == "POST" else (405, errors(2004, "Method not allowed"), {})
        auth = self.headers.get("Authorization") or ""
        if not auth.startswith("Bearer ") or auth[len("Bearer "):] != state.credentials.get("access_token") \
                or state.extra.get("reject_all_tokens"):
            return 401, errors(1001, "Invalid access token", domain="OAuth",
                               longMessage="Invalid access token. Check the value of the Authorization HTTP request header."), {}
        if state.limiter is not None and not state.limiter.take()[0]:
            return self.fault_response(429)
        if method == "GET" and path == ORDERS_PATH:
            return self._orders(query)
        if method == "GET" and path == INVENTORY_PATH:
            return self._inventory(query)
        return 404, errors(2002, "Resource not found", domain="ACCESS"), {}

    def _token(self, method, body):
        state: SandboxState = self.sandbox
        expected = base64.b64encode(
            f"{state.credentials.get('client_id')}:{state.credentials.get('client_secret')}".encode()).decode()
        if self.headers.get("Authorization") != f"Basic {expected}":
            return 401, {"error": "invalid_client", "error_description": "client authentication failed"}, {}
        form = {k: v[-1] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
        if form.get("grant_type") != "refresh_token":
            return 400, {"error": "unsupported_grant_type",
                         "error_description": "grant type in request is not supported by the authorization server"}, {}
        if not form.get("refresh_token") or form["refresh_token"] != state.credentials.get("refresh_token"):
            return 400, {"error": "invalid_grant", "error_description":
                         "the provided authorization refresh token is invalid or was issued to another client"}, {}
        scopes = set(form.get("scope", "").split())
        if not scopes <= GRANTED_SCOPES:
            return 400, {"error": "invalid_scope", "error_description":
                         "the requested scope is invalid, unknown, malformed, or exceeds the scope granted to the client"}, {}
        token = f"v^1.1#i^1#sandbox-{next(_token_numbers)}"
        state.credentials["access_token"] = token  # the old access token stops working
        state.extra["refreshes"] = state.extra.get("refreshes", 0) + 1
        return 200, {"access_token": token, "expires_in": 7200, "token_type": "User Access Token"}, {}

    def _href(self, path: str, query: dict, offset: int) -> str:
        return f"http://{self.headers.get('Host')}{path}?{urlencode({**query, 'offset': offset})}"

    def _page(self, path: str, query: dict, key: str, rows: list, limit: int, offset: int, extra: dict) -> dict:
        page = {"href": self._href(path, query, offset), "limit": limit, "offset": offset, key: rows[offset:offset + limit],
                "total": len(rows), **extra}
        if offset + limit < len(rows):
            page["next"] = self._href(path, query, offset + limit)
        if offset > 0:
            page["prev"] = self._href(path, query, max(0, offset - limit))
        return page

    def _orders(self, query):
        state: SandboxState = self.sandbox
        try:
            limit, offset = _paging(query, 50)
        except ValueError:
            return 400, errors(30800, "Invalid limit or offset"), {}
        except LookupError as exc:
            return 400, errors(30800, str(exc)), {}
        try:
            filters = parse_filter(query.get("filter", ""))
        except ValueError:
            return 400, INVALID_FILTER, {}
        state.orders_page_requested(query)
        with state.book.lock:
            rows = list(state.book.orders)
        if "lastmodifieddate" in filters:
            rows = [o for o in rows if _within(o.updated_at, filters["lastmodifieddate"])]
        elif "creationdate" in filters:
            rows = [o for o in rows if _within(o.created_at, filters["creationdate"])]
        else:  # no date filter: the last 90 days
            since = state.extra.get("now", dt.datetime.now(dt.UTC)) - dt.timedelta(days=90)
            rows = [o for o in rows if o.created_at >= since]
        if "orderfulfillmentstatus" in filters:
            rows = [o for o in rows if render_order(o, state.book.seed).get("orderFulfillmentStatus")
                    in filters["orderfulfillmentstatus"]]
        rows.sort(key=lambda o: (o.updated_at, o.number))
        page = self._page(ORDERS_PATH, query, "orders", rows, limit, offset, {"warnings": []})
        page["orders"] = [render_order(o, state.book.seed) for o in page["orders"]]
        return 200, page, {}

    def _inventory(self, query):
        state: SandboxState = self.sandbox
        try:
            limit, offset = _paging(query, 25)
        except (ValueError, LookupError):
            return 400, errors(25707, "Invalid value for limit or offset", domain="API_INVENTORY"), {}
        items = [
            {"sku": sku, "locale": "en_US", "condition": "NEW", "product": {"title": f"Sandbox item {sku}"},
             "availability": {"shipToLocationAvailability": {"quantity": qty}}}
            for sku, qty in sorted(state.stock.items())
        ]
        page = self._page(INVENTORY_PATH, query, "inventoryItems", items, limit, offset, {})
        page["size"] = len(page["inventoryItems"])
        return 200, page, {}
