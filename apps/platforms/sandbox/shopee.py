"""Shopee Open Platform v2 contract (shared/contracts/shopee.md): signed requests (partner_id,
timestamp within ±5 minutes, access_token, shop_id, HMAC-SHA256 sign), errors as
{request_id, error, message, response} — with HTTP 200 unless the test says otherwise —,
get_order_list by create_time/update_time in windows of at most 15 days with cursor/more paging
(page_size 1–100), get_order_detail for ≤ 50 order_sn, and the token refresh that rotates both
tokens (the old refresh token stops working).

`state.credentials`: partner_id, partner_key, shop_id, access_token, refresh_token.
Knobs in `state.extra`:
    access_expires_at   unix time after which the access token is refused ("error_auth")
    auth_error_status   HTTP status of auth and sign errors (default 200)
    throttle_status     HTTP status when the limiter says no (default 429; 200 = body-only)
    body_faults         error names answered, with HTTP 200, to the next requests
    region, name        the shop's region and name
Products and stock (get_item_list, get_item_base_info, get_model_list, get_shop_info) are not in
the contract file; they follow the public SDKs' shapes and serve `state.stock`."""
import base64
import datetime as dt
import hashlib
import hmac
import json
import re
import time
import uuid
import zlib

from .core import CanonicalOrder, ContractHandler, SandboxState

MAX_WINDOW = 15 * 86400
TOKEN_LIFETIME = 4 * 3600
PREFIX = "/api/v2"
_STATUS = {"pending": "UNPAID", "paid": "READY_TO_SHIP", "shipped": "SHIPPED", "delivered": "COMPLETED",
           "cancelled": "CANCELLED", "partially_refunded": "COMPLETED", "refunded": "CANCELLED"}
_SN = re.compile(r"^\d{6}SB(\d{6})$")


def order_sn(order: CanonicalOrder) -> str:
    return f"{order.created_at:%y%m%d}SB{order.number:06d}"


def item_id(sku: str) -> int:
    return 800_000_000 + zlib.crc32(sku.encode()) % 100_000_000


def has_models(sku: str) -> bool:
    """Half the SKUs are models (variations) of an item, half are plain items."""
    return zlib.crc32(sku.encode()) % 2 == 0


def expire_access_token(state: SandboxState) -> None:
    """From now on the current access token is refused ("error_auth") until a refresh."""
    state.extra["access_expires_at"] = time.time() - 1


def _unix(moment: dt.datetime | None) -> int | None:
    return int(moment.timestamp()) if moment else None


def render_order(order: CanonicalOrder, region: str) -> dict:
    sn = order_sn(order)
    if order.malformed:
        return {"order_sn": sn, "region": region, "currency": order.currency, "total_amount": "abc",
                "order_status": "READY_TO_SHIP", "create_time": "not-a-date", "update_time": _unix(order.updated_at),
                "item_list": []}
    status = _STATUS[order.state]
    if status == "READY_TO_SHIP" and order.number % 3 == 0:
        status = "PROCESSED"  # label arranged, not yet handed over
    lines = []
    for line in order.lines:
        modelled = has_models(line.sku)
        lines.append({
            "item_id": item_id(line.sku), "item_name": line.title, "item_sku": f"{line.sku}-P" if modelled else line.sku,
            "model_id": item_id(line.sku) + 1 if modelled else 0, "model_name": "Default" if modelled else "",
            "model_sku": line.sku if modelled else "", "model_quantity_purchased": line.quantity,
            "model_original_price": float(line.unit_price), "model_discounted_price": float(line.unit_price),
        })
    return {
        "order_sn": sn, "region": region, "currency": order.currency, "cod": False,
        "total_amount": float(order.total),  # a JSON number, as documented
        "order_status": status,
        "create_time": _unix(order.created_at), "update_time": _unix(order.updated_at),
        "pay_time": None if order.state == "pending" else _unix(order.created_at + dt.timedelta(minutes=3)),
        "buyer_user_id": int(order.buyer_id.replace("-", "")), "buyer_username": f"buyer_{order.buyer_id}",
        "recipient_address": {"name": f"{order.name[0]}****", "region": order.country, "full_address": "****"},
        "item_list": lines,
    }


def _encode(payload: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def _decode(token: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


def _sign(key: str, *parts) -> str:
    return hmac.new(str(key).encode(), "".join(str(p) for p in parts).encode(), hashlib.sha256).hexdigest()


class ShopeeHandler(ContractHandler):
    def _error(self, error: str, message: str, status: int = 200):
        return status, {"request_id": uuid.uuid4().hex, "error": error, "message": message, "response": {}}, {}

    def _ok(self, response: dict | None = None, **top):
        return 200, {"request_id": uuid.uuid4().hex, "error": "", "message": "",
                     **({"response": response} if response is not None else {}), **top}, {}

    def fault_response(self, status: int):
        if status == 429:
            return self._error("error_too_many_request", "Too many requests, please try again later.", 429)
        return self._error("error_server", "Internal error, please try again later.", status)

    def _auth_status(self) -> int:
        return int(self.sandbox.extra.get("auth_error_status", 200))

    def _check_signature(self, path: str, query: dict, *, shop_level: bool):
        credentials = self.sandbox.credentials
        if query.get("partner_id") != str(credentials.get("partner_id")):
            return self._error("error_param", "Invalid partner_id.")
        try:
            timestamp = int(query.get("timestamp", ""))
        except ValueError:
            return self._error("error_param", "Invalid timestamp.")
        if abs(time.time() - timestamp) > 300:
            return self._error("error_param", "Invalid timestamp: it must be within 5 minutes of the server time.")
        parts = [query["partner_id"], path, query["timestamp"]]
        if shop_level:
            parts += [query.get("access_token", ""), query.get("shop_id", "")]
        if not hmac.compare_digest(query.get("sign", ""), _sign(credentials.get("partner_key", ""), *parts)):
            return self._error("error_sign", "Wrong sign.", self._auth_status())
        if not shop_level:
            return None
        if query.get("shop_id") != str(credentials.get("shop_id")):
            return self._error("error_param", "Invalid shop_id.")
        if query.get("access_token") != credentials.get("access_token"):
            return self._error("invalid_acceess_token", "Invalid access_token.", self._auth_status())
        expires = self.sandbox.extra.get("access_expires_at")
        if expires is not None and time.time() >= expires:
            return self._error("error_auth", "Invalid access_token: it has expired.", self._auth_status())
        return None

    def route(self, method, path, query, body):
        state: SandboxState = self.sandbox
        body_faults = state.extra.get("body_faults")
        if body_faults:
            error = body_faults.pop(0)
            return self._error(error, f"Sandbox fault {error}.")
        if method == "POST" and path == f"{PREFIX}/auth/access_token/get":
            return self._refresh(path, query, body)
        problem = self._check_signature(path, query, shop_level=True)
        if problem:
            return problem
        if state.limiter is not None:
            allowed, _, _ = state.limiter.take()
            if not allowed:
                return self._error("error_too_many_request", "Too many requests.",
                                   int(state.extra.get("throttle_status", 429)))
        if method != "GET":
            return self._error("error_not_found", "Wrong method.", 404)
        routes = {
            f"{PREFIX}/shop/get_shop_info": self._shop_info,
            f"{PREFIX}/order/get_order_list": self._order_list,
            f"{PREFIX}/order/get_order_detail": self._order_detail,
            f"{PREFIX}/product/get_item_list": self._item_list,
            f"{PREFIX}/product/get_item_base_info": self._item_base_info,
            f"{PREFIX}/product/get_model_list": self._model_list,
        }
        handler = routes.get(path)
        return handler(query) if handler else self._error("error_not_found", "Wrong path.", 404)

    def _refresh(self, path, query, raw):
        problem = self._check_signature(path, query, shop_level=False)
        if problem:
            return problem
        credentials = self.sandbox.credentials
        try:
            payload = json.loads(raw or b"{}")
        except ValueError:
            return self._error("error_param", "Body is not JSON.")
        if str(payload.get("partner_id")) != str(credentials.get("partner_id")) or \
                str(payload.get("shop_id")) != str(credentials.get("shop_id")):
            return self._error("error_param", "Invalid partner_id or shop_id.")
        if not payload.get("refresh_token") or payload.get("refresh_token") != credentials.get("refresh_token"):
            return self._error("error_auth", "Invalid refresh_token.", self._auth_status())
        generation = self.sandbox.extra.get("token_generation", 0) + 1
        self.sandbox.extra["token_generation"] = generation
        credentials["access_token"] = f"sandbox-access-{generation}-{uuid.uuid4().hex[:8]}"
        credentials["refresh_token"] = f"sandbox-refresh-{generation}-{uuid.uuid4().hex[:8]}"
        self.sandbox.extra["access_expires_at"] = time.time() + TOKEN_LIFETIME
        return self._ok(access_token=credentials["access_token"], refresh_token=credentials["refresh_token"],
                        expire_in=TOKEN_LIFETIME, partner_id=int(credentials["partner_id"]),
                        shop_id=int(credentials["shop_id"]))

    def _shop_info(self, query):
        extra = self.sandbox.extra
        return self._ok(shop_name=extra.get("name", "Sandbox Shopee shop"), region=extra.get("region", "SG"),
                        status="NORMAL", is_cb=True)

    def _order_list(self, query):
        field = query.get("time_range_field")
        if field not in ("create_time", "update_time"):
            return self._error("error_param", "time_range_field must be create_time or update_time.")
        try:
            time_from, time_to = int(query["time_from"]), int(query["time_to"])
            page_size = int(query.get("page_size", ""))
        except (KeyError, ValueError):
            return self._error("error_param", "time_from, time_to and page_size are required integers.")
        if time_from > time_to:
            return self._error("error_param", "time_from must not be later than time_to.")
        if time_to - time_from > MAX_WINDOW:
            return self._error("error_param", "The time range between time_from and time_to cannot exceed 15 days.")
        if not 1 <= page_size <= 100:
            return self._error("error_param", "page_size must be between 1 and 100.")
        filters = [field, time_from, time_to]
        offset = 0
        if query.get("cursor"):
            try:
                cursor = _decode(query["cursor"])
            except ValueError:
                return self._error("error_param", "Invalid cursor.")
            if cursor.get("filters") != filters:
                return self._error("error_param", "The cursor does not belong to this query.")
            offset = int(cursor["offset"])
        book = self.sandbox.book
        attribute = "created_at" if field == "create_time" else "updated_at"
        with book.lock:
            rows = [o for o in book.orders if time_from <= _unix(getattr(o, attribute)) <= time_to]
        rows.sort(key=lambda o: (getattr(o, attribute), o.number))
        page = rows[offset:offset + page_size]
        more = offset + page_size < len(rows)
        return self._ok({
            "more": more, "next_cursor": _encode({"filters": filters, "offset": offset + page_size}) if more else "",
            "order_list": [{"order_sn": order_sn(o)} for o in page],
        })

    def _order_detail(self, query):
        wanted = [sn for sn in (query.get("order_sn_list") or "").split(",") if sn]
        if not wanted:
            return self._error("error_param", "order_sn_list is required.")
        if len(wanted) > 50:
            return self._error("error_param", "order_sn_list can contain at most 50 order_sn.")
        book = self.sandbox.book
        with book.lock:
            by_number = {o.number: o for o in book.orders}
        region = self.sandbox.extra.get("region", "SG")
        found = []
        for sn in wanted:
            match = _SN.match(sn)
            order = by_number.get(int(match.group(1))) if match else None
            if order is not None and order_sn(order) == sn:
                found.append(render_order(order, region))
        return self._ok({"order_list": found})

    def _skus(self) -> list[str]:
        return sorted(self.sandbox.stock)

    def _item_list(self, query):
        try:
            offset, page_size = int(query.get("offset", 0)), int(query.get("page_size", ""))
        except ValueError:
            return self._error("error_param", "offset and page_size must be integers.")
        if not 1 <= page_size <= 100 or offset < 0:
            return self._error("error_param", "page_size must be between 1 and 100.")
        skus = self._skus()
        page = skus[offset:offset + page_size]
        more = offset + page_size < len(skus)
        return self._ok({"item": [{"item_id": item_id(sku), "item_status": "NORMAL", "update_time": 1740787200}
                                  for sku in page],
                         "total_count": len(skus), "has_next_page": more, "next_offset": offset + page_size if more else 0})

    def _price(self, sku: str) -> list[dict]:
        return [{"currency": self.sandbox.book.currency, "current_price": 19.9, "original_price": 24.9}]

    def _stock(self, sku: str) -> dict:
        return {"summary_info": {"total_reserved_stock": 0, "total_available_stock": self.sandbox.stock[sku]}}

    def _item_base_info(self, query):
        ids = [i for i in (query.get("item_id_list") or "").split(",") if i]
        if not ids or len(ids) > 50:
            return self._error("error_param", "item_id_list must contain 1 to 50 ids.")
        by_id = {str(item_id(sku)): sku for sku in self._skus()}
        items = []
        for raw_id in ids:
            sku = by_id.get(raw_id)
            if sku is None:
                continue
            item = {"item_id": int(raw_id), "item_name": f"Sandbox item {sku}", "item_status": "NORMAL",
                    "has_model": has_models(sku), "item_sku": f"{sku}-P" if has_models(sku) else sku}
            if not has_models(sku):
                item.update(price_info=self._price(sku), stock_info_v2=self._stock(sku))
            items.append(item)
        return self._ok({"item_list": items})

    def _model_list(self, query):
        by_id = {str(item_id(sku)): sku for sku in self._skus()}
        sku = by_id.get(query.get("item_id", ""))
        if sku is None or not has_models(sku):
            return self._error("error_item_not_found", "Item not found or has no models.")
        return self._ok({"tier_variation": [{"name": "Variant", "option_list": [{"option": "Default"}]}],
                         "model": [{"model_id": item_id(sku) + 1, "model_sku": sku, "tier_index": [0],
                                    "price_info": self._price(sku), "stock_info_v2": self._stock(sku)}]})
