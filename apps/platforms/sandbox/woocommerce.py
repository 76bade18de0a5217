"""WooCommerce REST API v3 contract (shared/contracts/woocommerce.md): HTTP Basic consumer key /
secret or ?consumer_key=&consumer_secret= query auth, per_page 1–100 (WordPress core's
rest_invalid_param body outside that) and 1-based page with X-WP-Total, X-WP-TotalPages and a Link
header (rel next/prev), modified_after / modified_before / after / before filters (exclusive, whole
seconds, site-local unless dates_are_gmt=true), status (default any = everything but trash),
orderby/order, WordPress-style error bodies. Orders: *_gmt times are GMT without an offset, the
others site-local (`state.extra["utc_offset_hours"]`, default +8, so a connector that forgets
dates_are_gmt gets the wrong orders). Money is strings except line `price`, a number.
Canonical state → status: pending → pending (every 5th on-hold), paid → processing,
shipped/delivered → completed, cancelled → cancelled, refunded → refunded, partially_refunded →
completed/processing with a refund."""
import base64
import datetime as dt
import hashlib
import math
from urllib.parse import urlencode

from .core import CanonicalOrder, ContractHandler, SandboxState

API_PREFIX = "/wp-json/wc/v3"
STATUSES = ["pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed", "trash"]
ORDERBY = {"date", "id", "include", "title", "slug", "modified"}


def _tz(state: SandboxState) -> dt.timezone:
    return dt.timezone(dt.timedelta(hours=state.extra.get("utc_offset_hours", 8)))


def _wc_time(moment: dt.datetime | None, tz: dt.timezone) -> str | None:
    """WordPress's form: whole seconds, no offset, in `tz`."""
    return moment.astimezone(tz).replace(tzinfo=None, microsecond=0).isoformat() if moment else None


def _money(value) -> str:
    return f"{value:.2f}"


def order_status(order: CanonicalOrder) -> str:
    if order.state == "pending":
        return "on-hold" if order.number % 5 == 0 else "pending"
    if order.state == "paid":
        return "processing"
    if order.state in ("shipped", "delivered"):
        return "completed"
    if order.state == "partially_refunded":
        return "completed" if order.shipped_at else "processing"
    return order.state  # cancelled, refunded


def _customer_id(order: CanonicalOrder) -> int:
    buyer = int(order.buyer_id.split("-")[-1])
    return 0 if buyer % 4 == 0 else 1000 + buyer  # every 4th buyer checks out as a guest


def product_id(sku: str) -> int:
    """A stable WooCommerce product id for any SKU (demo SKUs are not numeric)."""
    return int(hashlib.sha256(sku.encode()).hexdigest()[:8], 16)


def render_order(order: CanonicalOrder, seed: int, tz: dt.timezone) -> dict:
    number = seed * 100_000 + order.number
    if order.malformed:
        return {"id": number, "number": str(order.number), "status": "processing", "currency": order.currency,
                "date_created_gmt": "not-a-date", "date_modified_gmt": _wc_time(order.updated_at, dt.UTC),
                "total": "abc", "line_items": []}
    status = order_status(order)
    first, last = order.name.split()[0], order.name.split()[-1]
    paid = order.created_at if status not in ("pending", "on-hold") else None
    completed = order.shipped_at if status == "completed" or (order.shipped_at and status == "refunded") else None
    return {
        "id": number, "parent_id": 0, "number": str(order.number), "order_key": f"wc_order_{number:x}",
        "created_via": "checkout", "version": "8.5.2", "status": status, "currency": order.currency,
        "date_created": _wc_time(order.created_at, tz), "date_created_gmt": _wc_time(order.created_at, dt.UTC),
        "date_modified": _wc_time(order.updated_at, tz), "date_modified_gmt": _wc_time(order.updated_at, dt.UTC),
        "discount_total": _money(order.discount), "discount_tax": "0.00",
        "shipping_total": _money(order.shipping), "shipping_tax": "0.00",
        "cart_tax": _money(order.tax), "total": _money(order.total), "total_tax": _money(order.tax),
        "prices_include_tax": False, "customer_id": _customer_id(order), "customer_note": "",
        "billing": {"first_name": first, "last_name": last, "email": order.email, "country": order.country},
        "shipping": {"first_name": first, "last_name": last, "country": order.country},
        "payment_method": "stripe", "payment_method_title": "Credit card",
        "date_paid": _wc_time(paid, tz), "date_paid_gmt": _wc_time(paid, dt.UTC),
        "date_completed": _wc_time(completed, tz), "date_completed_gmt": _wc_time(completed, dt.UTC),
        "line_items": [
            {"id": int(line.line_id), "name": line.title, "product_id": product_id(line.sku), "variation_id": 0,
             "quantity": line.quantity, "tax_class": "", "subtotal": _money(line.unit_price * line.quantity),
             "subtotal_tax": "0.00", "total": _money(line.unit_price * line.quantity), "total_tax": "0.00",
             "sku": line.sku, "price": float(line.unit_price)}
            for line in order.lines
        ],
        "refunds": [{"id": number * 10, "reason": "Sandbox refund", "total": f"-{order.refunded:.2f}"}]
        if order.refunded else [],
    }


def wp_error(status: int, code: str, message: str, **data) -> dict:
    return {"code": code, "message": message, "data": {"status": status, **data}}


def invalid_param(name: str, reason: str) -> tuple[int, dict, dict]:
    return 400, {"code": "rest_invalid_param", "message": f"Invalid parameter(s): {name}",
                 "data": {"status": 400, "params": {name: reason}}}, {}


class _Invalid(Exception):
    def __init__(self, name: str, reason: str):
        self.response = invalid_param(name, reason)


def _int(query: dict, name: str, default: int, low: int, high: int | None = None) -> int:
    raw = query.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _Invalid(name, f"{name} is not of type integer.") from None
    if value < low or (high is not None and value > high):
        if high is None:
            raise _Invalid(name, f"{name} must be greater than or equal to {low}")
        raise _Invalid(name, f"{name} must be between {low} (inclusive) and {high} (inclusive)")
    return value


def _date(query: dict, name: str, gmt: bool, tz: dt.timezone) -> dt.datetime | None:
    raw = query.get(name)
    if raw in (None, ""):
        return None
    try:
        moment = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise _Invalid(name, "Invalid date.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC if gmt else tz)
    return moment.astimezone(dt.UTC).replace(microsecond=0)


def _seconds(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(microsecond=0)


class WooCommerceHandler(ContractHandler):
    def fault_response(self, status: int):
        if status == 429:
            return 429, wp_error(429, "rest_too_many_requests", "Too many requests. Please wait and try again."), {
                "Retry-After": "0.05"}
        return status, wp_error(status, "internal_server_error",
                                "There has been a critical error on this website."), {}

    def _authorised(self, query) -> tuple[int, dict] | None:
        state: SandboxState = self.sandbox
        key, secret = query.get("consumer_key"), query.get("consumer_secret")
        auth = self.headers.get("Authorization") or ""
        if auth.startswith("Basic "):
            try:
                key, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                key = secret = None
        if not key:
            return 401, wp_error(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        if key != state.credentials.get("consumer_key"):
            return 401, wp_error(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
        if secret != state.credentials.get("consumer_secret"):
            return 401, wp_error(401, "woocommerce_rest_authentication_error", "Consumer secret is invalid.")
        return None

    def route(self, method, path, query, body):
        state: SandboxState = self.sandbox
        if not path.startswith(API_PREFIX):
            return 404, wp_error(404, "rest_no_route", "No route was found matching the URL and request method."), {}
        refused = self._authorised(query)
        if refused:
            return (*refused, {})
        if state.limiter is not None:
            allowed, wait, _ = state.limiter.take()
            if not allowed:
                return 429, wp_error(429, "rest_too_many_requests", "Too many requests. Please wait and try again."), {
                    "Retry-After": f"{max(wait, 0.05):.2f}"}
        try:
            if method == "GET" and path == f"{API_PREFIX}/orders":
                return self._orders(query)
            if method == "GET" and path == f"{API_PREFIX}/products":
                return self._products(query)
        except _Invalid as invalid:
            return invalid.response
        return 404, wp_error(404, "rest_no_route", "No route was found matching the URL and request method."), {}

    def _paged(self, path: str, query: dict, rows: list, per_page: int, page: int) -> tuple[list, dict]:
        total = len(rows)
        pages = math.ceil(total / per_page) if total else 0
        shown = {k: v for k, v in query.items() if k not in ("consumer_key", "consumer_secret")}
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
        base = f"http://{self.headers.get('Host')}{path}"
        links = []
        if page > 1:
            links.append(f'<{base}?{urlencode({**shown, "page": min(page - 1, max(pages, 1))})}>; rel="prev"')
        if page < pages:
            links.append(f'<{base}?{urlencode({**shown, "page": page + 1})}>; rel="next"')
        if links:
            headers["Link"] = ", ".join(links)
        return rows[(page - 1) * per_page:page * per_page], headers

    def _orders(self, query):
        state: SandboxState = self.sandbox
        tz = _tz(state)
        per_page = _int(query, "per_page", 10, 1, 100)
        page = _int(query, "page", 1, 1)
        flag = query.get("dates_are_gmt", "false").lower()
        if flag not in ("true", "false", "1", "0"):
            raise _Invalid("dates_are_gmt", "dates_are_gmt is not of type boolean.")
        gmt = flag in ("true", "1")
        bounds = {name: _date(query, name, gmt, tz) for name in ("after", "before", "modified_after", "modified_before")}
        statuses = set((query.get("status") or "any").split(","))
        if statuses != {"any"} and not statuses <= set(STATUSES):
            raise _Invalid("status", f"status[0] is not one of any, {', '.join(STATUSES)}.")
        orderby = query.get("orderby", "date")
        if orderby not in ORDERBY:
            raise _Invalid("orderby", f"orderby is not one of {', '.join(sorted(ORDERBY))}.")
        direction = query.get("order", "desc")
        if direction not in ("asc", "desc"):
            raise _Invalid("order", "order is not one of asc, desc.")
        state.orders_page_requested(query)
        with state.book.lock:
            rows = list(state.book.orders)
        for name, field, after in (("after", "created_at", True), ("before", "created_at", False),
                                   ("modified_after", "updated_at", True), ("modified_before", "updated_at", False)):
            bound = bounds[name]
            if bound is not None:  # WP date_query: exclusive at both ends, whole seconds
                rows = [o for o in rows
                        if (_seconds(getattr(o, field)) > bound if after else _seconds(getattr(o, field)) < bound)]
        rows = [o for o in rows if ("any" in statuses and o.state != "trash") or order_status(o) in statuses]
        key = {"id": lambda o: o.number, "include": lambda o: o.number, "title": lambda o: o.number,
               "slug": lambda o: o.number, "date": lambda o: (o.created_at, o.number),
               "modified": lambda o: (o.updated_at, o.number)}[orderby]
        rows.sort(key=key, reverse=direction == "desc")
        page_rows, headers = self._paged(f"{API_PREFIX}/orders", query, rows, per_page, page)
        return 200, [render_order(o, state.book.seed, tz) for o in page_rows], headers

    def _products(self, query):
        state: SandboxState = self.sandbox
        per_page = _int(query, "per_page", 10, 1, 100)
        page = _int(query, "page", 1, 1)
        products = [
            {"id": product_id(sku), "name": f"Sandbox item {sku}", "slug": sku.lower(), "type": "simple",
             "status": "publish", "sku": sku, "price": "19.99", "regular_price": "19.99", "sale_price": "",
             "manage_stock": True, "stock_quantity": qty, "stock_status": "instock" if qty > 0 else "outofstock"}
            for sku, qty in sorted(state.stock.items())
        ]
        page_rows, headers = self._paged(f"{API_PREFIX}/products", query, products, per_page, page)
        return 200, page_rows, headers
