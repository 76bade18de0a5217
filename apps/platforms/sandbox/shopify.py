"""Shopify Admin REST contract (shared/contracts/shopify.md): X-Shopify-Access-Token, Link-header
cursor pagination with opaque page_info (only limit/fields allowed beside it), status defaulting
to open, limit ≤ 250, a 40/2 per-second leaky bucket with X-Shopify-Shop-Api-Call-Limit and 429 +
Retry-After."""
import base64
import datetime as dt
import json

from .core import CanonicalOrder, ContractHandler, SandboxState

API_PREFIX = "/admin/api/2024-10"
_FINANCIAL = {"pending": "pending", "paid": "paid", "shipped": "paid", "delivered": "paid", "cancelled": "voided",
              "partially_refunded": "partially_refunded", "refunded": "refunded"}


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.timezone(dt.timedelta(hours=-4))).isoformat() if moment else None


def render_order(order: CanonicalOrder, shop_seed: int) -> dict:
    if order.malformed:
        return {"id": 9_000_000 + order.number, "name": f"#{order.number}", "created_at": "not-a-date",
                "currency": order.currency, "total_price": "abc", "line_items": []}
    refunds = []
    if order.refunded:
        refunds = [{"id": order.number * 10, "transactions": [{"amount": f"{order.refunded:.2f}", "kind": "refund"}]}]
    return {
        "id": shop_seed * 10_000_000 + order.number,
        "name": f"#{order.number}",
        "email": order.email,
        "created_at": _iso(order.created_at),
        "updated_at": _iso(order.updated_at),
        "cancelled_at": _iso(order.updated_at) if order.state == "cancelled" else None,
        "currency": order.currency,
        "subtotal_price": f"{order.items_total:.2f}",
        "total_price": f"{order.total:.2f}",
        "total_tax": f"{order.tax:.2f}",
        "total_discounts": f"{order.discount:.2f}",
        "total_shipping_price_set": {"shop_money": {"amount": f"{order.shipping:.2f}", "currency_code": order.currency}},
        "financial_status": _FINANCIAL[order.state],
        "fulfillment_status": "fulfilled" if order.shipped_at else None,
        "fulfillments": [{"id": order.number, "created_at": _iso(order.shipped_at)}] if order.shipped_at else [],
        "customer": {"id": int(order.buyer_id.replace("-", "")), "email": order.email,
                     "first_name": order.name.split()[0], "last_name": order.name.split()[-1]},
        "shipping_address": {"country_code": order.country},
        "line_items": [
            {"id": int(line.line_id), "sku": line.sku, "quantity": line.quantity, "price": f"{line.unit_price:.2f}",
             "title": line.title}
            for line in order.lines
        ],
        "refunds": refunds,
    }


def order_json(order: CanonicalOrder, shop_seed: int) -> bytes:
    """The order as the server sends it, rendered once until the order changes."""
    return order.json_bytes(("shopify", shop_seed), lambda o: render_order(o, shop_seed))


def _encode(payload: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def _decode(token: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


def _parse_time(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


class ShopifyHandler(ContractHandler):
    def route(self, method, path, query, body):
        state: SandboxState = self.sandbox
        if self.headers.get("X-Shopify-Access-Token") != state.credentials.get("access_token"):
            return 401, {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}, {}
        headers = {}
        if state.limiter is not None:
            allowed, wait, level = state.limiter.take()
            headers["X-Shopify-Shop-Api-Call-Limit"] = f"{level}/{state.limiter.capacity}"
            if not allowed:
                return 429, {"errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."}, {
                    "Retry-After": f"{max(wait, 0.05):.2f}"}
        if method == "GET" and path == f"{API_PREFIX}/shop.json":
            return 200, {"shop": {"name": state.extra.get("name", "Sandbox shop"), "currency": state.book.currency}}, headers
        if method == "GET" and path == f"{API_PREFIX}/orders.json":
            return self._orders(query, headers)
        if method == "GET" and path == f"{API_PREFIX}/products.json":
            return 200, {"products": [
                {"id": n, "title": f"Sandbox item {sku}", "variants": [{"id": n * 10, "sku": sku, "price": "19.99",
                                                                       "inventory_item_id": n * 100}]}
                for n, sku in enumerate(sorted(state.stock or {}), start=1)
            ]}, headers
        if method == "GET" and path == f"{API_PREFIX}/inventory_levels.json":
            if not (query.get("inventory_item_ids") or query.get("location_ids")):
                return 422, {"errors": "inventory_item_ids or location_ids is required"}, headers
            return 200, {"inventory_levels": [
                {"inventory_item_id": n * 100, "location_id": 1, "available": qty}
                for n, (sku, qty) in enumerate(sorted(state.stock.items()), start=1)
            ]}, headers
        return 404, {"errors": "Not Found"}, headers

    def _orders(self, query, headers):
        state: SandboxState = self.sandbox
        try:
            limit = int(query.get("limit", 50))
        except ValueError:
            return 400, {"errors": {"limit": "must be an integer"}}, headers
        if not 1 <= limit <= 250:
            return 400, {"errors": {"limit": "must be between 1 and 250"}}, headers
        if "page_info" in query:
            extra = set(query) - {"page_info", "limit", "fields"}
            if extra:
                return 400, {"errors": {"page_info": f"Cannot use other parameters with page_info: {sorted(extra)}"}}, headers
            cursor = _decode(query["page_info"])
            filters, offset = cursor["filters"], cursor["offset"]
        else:
            filters = {k: query[k] for k in ("status", "updated_at_min", "updated_at_max") if k in query}
            offset = 0
        status = filters.get("status", "open")
        rows = state.book.updated_between(_parse_time(filters.get("updated_at_min")),
                                          _parse_time(filters.get("updated_at_max")))
        if status == "open":
            rows = [o for o in rows if o.state in ("pending", "paid")]
        page = rows[offset:offset + limit]
        if offset + limit < len(rows):
            token = _encode({"filters": filters, "offset": offset + limit})
            host = self.headers.get("Host")
            headers["Link"] = f'<http://{host}{API_PREFIX}/orders.json?limit={limit}&page_info={token}>; rel="next"'
        orders = b",".join(order_json(o, state.book.seed) for o in page)
        return 200, b'{"orders":[' + orders + b"]}", headers
