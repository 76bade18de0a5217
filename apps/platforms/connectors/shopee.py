"""Shopee Open Platform v2 (shared/contracts/shopee.md).

- Every shop call is signed: query params partner_id, timestamp, access_token, shop_id and
  sign = hex(HMAC-SHA256(partner_key, partner_id + path + timestamp + access_token + shop_id)); the
  token refresh (a public call) signs partner_id + path + timestamp. The signature is computed at
  send time (an httpx.Auth), so retries get a fresh timestamp and a refreshed token.
- A non-empty `error` in the body is a failure even with HTTP 200. How it is read (tolerant, since
  Shopee's own pages were not reachable):
    * an error naming a token or auth (`invalid_acceess_token`, `invalid_access_token`,
      `error_auth`, …) → refresh the access token once, retry; still refused → AuthError;
    * `error_sign` → AuthError at once (wrong partner_id / partner_key: a refresh cannot help);
    * throttling (`error_too_many_request`, HTTP 429) and transient server errors (`error_server`,
      `error_busy`, …, HTTP 5xx) → retried with back-off like any 429/5xx;
    * anything else (e.g. `error_param`) → the run fails with the error and message.
- Orders: get_order_list by update_time in windows of at most 15 days (the platform's limit; longer
  runs are split into chunks), cursor/more pagination, then get_order_detail in batches of ≤ 50.
  A checkpoint names the chunk and the cursor of the next page, so a killed run resumes there.
- Credentials: {partner_id, partner_key, shop_id, access_token, refresh_token}; a refresh rotates
  both tokens (Shopee's refresh token is single-use), which the run saves via updated_credentials.

Order statuses (raw status kept in platform_status):
    UNPAID → pending;  READY_TO_SHIP, PROCESSED, INVOICE_PENDING (paid, waiting for the seller's
    invoice), IN_CANCEL (cancellation requested, not yet accepted) → paid;  SHIPPED, TO_RETURN
    (not in the contract; a return requested after shipping) → shipped;  COMPLETED → delivered;
    CANCELLED → cancelled.  Any other status is a CleaningError (quarantined, never guessed).
Refunds are not part of the order detail (Shopee has a separate returns API): refund_amount stays 0.
"""
import datetime as dt
import hashlib
import hmac
import logging
import math
import time
from decimal import Decimal

import httpx

from apps.sales.ingest import CustomerData, LineData, OrderData
from apps.sales.models import Order

from . import cleaning, register
from .base import DataCollector, ListingRecord, Page, StockRecord
from .errors import AuthError, CleaningError, ConnectorError
from .http import PlatformClient

logger = logging.getLogger("erp.connectors")

ORDER_LIST = "/api/v2/order/get_order_list"
ORDER_DETAIL = "/api/v2/order/get_order_detail"
TOKEN_REFRESH = "/api/v2/auth/access_token/get"
SHOP_INFO = "/api/v2/shop/get_shop_info"
# Not in the contract file (plausible v2 endpoints, as in the public SDKs): products and stock.
ITEM_LIST = "/api/v2/product/get_item_list"
ITEM_BASE_INFO = "/api/v2/product/get_item_base_info"
MODEL_LIST = "/api/v2/product/get_model_list"

PAGE_SIZE = 100  # get_order_list: 1–100
DETAIL_BATCH = 50  # get_order_detail: ≤ 50 order_sn per call
ITEM_BATCH = 50  # get_item_base_info: ≤ 50 item ids per call (not in the contract file)
MAX_WINDOW = dt.timedelta(days=15)  # get_order_list: time_to - time_from ≤ 15 days
REFRESH_MARGIN = 60  # seconds: refresh a token this close to its known expiry before using it
# Detail fields that the live API only returns when asked for; harmless where they always come.
OPTIONAL_FIELDS = "buyer_user_id,buyer_username,pay_time,recipient_address,item_list,total_amount"

ORDER_STATUS = {
    "UNPAID": Order.Status.PENDING,
    "READY_TO_SHIP": Order.Status.PAID,
    "PROCESSED": Order.Status.PAID,
    "INVOICE_PENDING": Order.Status.PAID,
    "IN_CANCEL": Order.Status.PAID,
    "SHIPPED": Order.Status.SHIPPED,
    "TO_RETURN": Order.Status.SHIPPED,
    "COMPLETED": Order.Status.DELIVERED,
    "CANCELLED": Order.Status.CANCELLED,
}
_RETRYABLE_ERRORS = {"error_too_many_request", "error_server", "error_busy", "error_inner", "error_network",
                     "error_system_busy", "error_timeout"}


def sign(partner_key: str, *parts) -> str:
    """hex(HMAC-SHA256(partner_key, concatenation of parts))."""
    base = "".join(str(part) for part in parts)
    return hmac.new(str(partner_key).encode(), base.encode(), hashlib.sha256).hexdigest()


def _now() -> int:
    return int(time.time())


def _api_path(url: httpx.URL) -> str:
    path = url.path
    index = path.find("/api/")
    return path[index:] if index >= 0 else path


def _body_error(response: httpx.Response) -> tuple[str, str, str] | None:
    """(error, message, request_id) when the body carries a non-empty `error`."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or not body.get("error"):
        return None
    return str(body["error"]), str(body.get("message") or ""), str(body.get("request_id") or "")


def _describe(error: tuple[str, str, str]) -> str:
    name, message, request_id = error
    return f"{name}: {message}" + (f"（request_id {request_id}）" if request_id else "")


def auth_problem(response: httpx.Response) -> str | None:
    error = _body_error(response)
    if error and ("token" in error[0].lower() or "auth" in error[0].lower()):
        return _describe(error)
    return None


def retryable_problem(response: httpx.Response) -> str | None:
    error = _body_error(response)
    if error and (error[0].lower() in _RETRYABLE_ERRORS or "too_many" in error[0].lower()):
        return _describe(error)
    return None


def error_problem(response: httpx.Response) -> str | None:
    error = _body_error(response)
    if error is None:
        if response.status_code == 200:
            try:
                body = response.json()
            except ValueError:
                return f"应答不是 JSON：{response.text[:200]}"
            if not isinstance(body, dict):
                return f"应答不是 JSON 对象：{response.text[:200]}"
        return None
    if "sign" in error[0].lower():
        raise AuthError(f"Shopee 签名校验失败（{_describe(error)}）：请检查店铺凭证中的 partner_id 与 partner_key。")
    return _describe(error)


def _payload(response: httpx.Response) -> dict:
    """The `response` object of a v2 answer (some calls, e.g. get_shop_info and the token call,
    answer at the top level)."""
    body = response.json()
    inner = body.get("response")
    return inner if isinstance(inner, dict) else body


def _chunks(start: int, end: int, first_end: int | None = None) -> list[tuple[int, int]]:
    """[start, end) in unix seconds as inclusive (time_from, time_to) windows of ≤ 15 days."""
    step = int(MAX_WINDOW.total_seconds())
    chunks, moment = [], start
    while moment < end:
        stop = min(moment + step, end) - 1
        if not chunks and first_end is not None:
            stop = min(first_end, end - 1)
        chunks.append((moment, stop))
        moment = stop + 1
    return chunks


def _unix(value, field: str, *, required: bool = True) -> dt.datetime | None:
    if isinstance(value, bool):
        raise CleaningError(f"{field} 不是有效时间：{value!r}")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if value in (None, "", 0):
        if required:
            raise CleaningError(f"{field} 缺失")
        return None
    if not isinstance(value, (int, float)):
        raise CleaningError(f"{field} 不是 unix 时间：{value!r}")
    return cleaning.timestamp(value, field, required=required)


def _amount(value, field: str, *, required: bool = True) -> Decimal:
    """A JSON number (float after parsing) → Decimal through its text, never float arithmetic."""
    if isinstance(value, bool):
        raise CleaningError(f"{field} 不是有效金额：{value!r}")
    return cleaning.money(None if value is None else str(value), field, required=required)


class _Signer(httpx.Auth):
    """Adds partner_id, timestamp, (access_token, shop_id) and sign to each request as it is sent."""

    def __init__(self, collector: "ShopeeCollector", *, shop_level: bool = True):
        self.collector, self.shop_level = collector, shop_level

    def auth_flow(self, request):
        credentials = self.collector.shop.credentials
        partner_id, timestamp = str(credentials.get("partner_id", "")), _now()
        path = _api_path(request.url)
        params = {"partner_id": partner_id, "timestamp": str(timestamp)}
        parts = [partner_id, path, timestamp]
        if self.shop_level:
            access_token, shop_id = str(credentials.get("access_token", "")), str(credentials.get("shop_id", ""))
            params.update(access_token=access_token, shop_id=shop_id)
            parts += [access_token, shop_id]
        params["sign"] = sign(credentials.get("partner_key", ""), *parts)
        request.url = request.url.copy_merge_params(params)
        yield request


def _int_or_text(value):
    text = str(value)
    return int(text) if text.isdigit() else text


@register("shopee")
class ShopeeCollector(DataCollector):
    def __init__(self, shop):
        super().__init__(shop)
        self._http: PlatformClient | None = None
        self._refreshing = False

    def _check_credentials(self) -> None:
        missing = [k for k in ("partner_id", "partner_key", "shop_id") if not self.shop.credentials.get(k)]
        if missing:
            raise AuthError(f"店铺凭证缺少 {', '.join(missing)}。")

    def _client(self) -> PlatformClient:
        self._check_credentials()
        self._http = PlatformClient(base_url=self.shop.base_url, budget=self.shop.request_budget,
                                    auth=_Signer(self), refresh_auth=self._refresh)
        return self._http

    async def _get(self, client: PlatformClient, path: str, params: dict | None = None) -> dict:
        expires_at = self.shop.credentials.get("token_expires_at")
        if isinstance(expires_at, (int, float)) and _now() >= expires_at - REFRESH_MARGIN and not self._refreshing:
            await self._refresh()
        response = await client.request("GET", path, params=params, is_error=error_problem,
                                        is_retryable=retryable_problem, is_auth_error=auth_problem)
        return _payload(response)

    async def _refresh(self) -> None:
        """POST /api/v2/auth/access_token/get: new access and refresh tokens (both rotate)."""
        credentials = self.shop.credentials
        if self._refreshing:
            raise AuthError("Shopee 拒绝了刷新令牌的请求。")
        if not credentials.get("refresh_token"):
            raise AuthError("Shopee 访问令牌已失效，且店铺凭证没有 refresh_token。")

        def refused(response: httpx.Response) -> str | None:
            error = _body_error(response)
            if error:
                raise AuthError(f"Shopee 刷新访问令牌失败（{_describe(error)}）。")
            return error_problem(response)

        self._refreshing = True
        try:
            response = await self._http.request(
                "POST", TOKEN_REFRESH, auth=_Signer(self, shop_level=False), is_error=refused,
                is_retryable=retryable_problem,
                json={"refresh_token": credentials["refresh_token"], "partner_id": _int_or_text(credentials["partner_id"]),
                      "shop_id": _int_or_text(credentials["shop_id"])},
            )
        finally:
            self._refreshing = False
        data = _payload(response)
        if not data.get("access_token"):
            raise AuthError("Shopee 刷新访问令牌的应答里没有 access_token。")
        updated = {**credentials, "access_token": data["access_token"],
                   "refresh_token": data.get("refresh_token") or credentials["refresh_token"]}
        try:
            updated["token_expires_at"] = _now() + int(data.get("expire_in"))
        except (TypeError, ValueError):
            updated.pop("token_expires_at", None)
        self.shop.credentials = updated
        self.updated_credentials = dict(updated)
        logger.info("shop %s: Shopee access token refreshed", self.shop.shop_id)

    async def collect_orders(self, since, until, checkpoint=None):
        start, end = math.floor(since.timestamp()), math.ceil(until.timestamp())
        cursor, first_end = "", None
        if checkpoint:
            start, first_end = int(checkpoint["time_from"]), checkpoint.get("time_to")
            cursor = checkpoint.get("cursor") or ""
            first_end = int(first_end) if first_end is not None else None
        async with self._client() as client:
            for time_from, time_to in _chunks(start, end, first_end):
                while True:
                    data = await self._get(client, ORDER_LIST, {
                        "time_range_field": "update_time", "time_from": time_from, "time_to": time_to,
                        "page_size": PAGE_SIZE, "cursor": cursor,
                    })
                    order_sns = [str(o["order_sn"]) for o in data.get("order_list") or []
                                 if isinstance(o, dict) and o.get("order_sn")]
                    records = await self._details(client, order_sns)
                    following = str(data.get("next_cursor") or "") if data.get("more") else ""
                    if data.get("more") and (not following or following == cursor):
                        raise ConnectorError(f"get_order_list 应答 more=true 但游标无效：{following!r}")
                    if following:
                        next_checkpoint = {"time_from": time_from, "time_to": time_to, "cursor": following}
                    elif time_to + 1 < end:
                        next_checkpoint = {"time_from": time_to + 1, "cursor": ""}
                    else:
                        next_checkpoint = None
                    yield Page(records=records, next_checkpoint=next_checkpoint)
                    if not following:
                        break
                    cursor = following
                cursor = ""

    async def _details(self, client: PlatformClient, order_sns: list[str]) -> list[dict]:
        records: list[dict] = []
        for index in range(0, len(order_sns), DETAIL_BATCH):
            batch = order_sns[index:index + DETAIL_BATCH]
            data = await self._get(client, ORDER_DETAIL, {"order_sn_list": ",".join(batch),
                                                          "response_optional_fields": OPTIONAL_FIELDS})
            found = [o for o in data.get("order_list") or [] if isinstance(o, dict)]
            if len(found) < len(batch):
                logger.warning("shop %s: get_order_detail returned %s of %s orders", self.shop.shop_id,
                               len(found), len(batch))
            records.extend(found)
        return records

    def normalize_order(self, record: dict) -> OrderData:
        if not isinstance(record, dict) or not record.get("order_sn"):
            raise CleaningError("订单缺少 order_sn")
        raw_status = str(record.get("order_status") or "").strip().upper()
        if raw_status not in ORDER_STATUS:
            raise CleaningError(f"未知的 Shopee 订单状态：{record.get('order_status')!r}")
        status = ORDER_STATUS[raw_status]
        currency = str(record.get("currency") or "").strip().upper()
        if not currency:
            raise CleaningError("currency 缺失")
        total = _amount(record.get("total_amount"), "total_amount")
        updated_at = _unix(record.get("update_time"), "update_time", required=False)
        address = record.get("recipient_address") if isinstance(record.get("recipient_address"), dict) else {}
        lines, seen = [], {}
        for item in record.get("item_list") or []:
            if not isinstance(item, dict):
                raise CleaningError("item_list 中有无效的商品行")
            sku = str(item.get("model_sku") or "").strip() or str(item.get("item_sku") or "").strip()
            item_id, model_id = item.get("item_id"), item.get("model_id")
            if not sku:
                if not item_id:
                    raise CleaningError("商品行既没有 SKU 也没有 item_id")
                sku = f"shopee-{item_id}-{model_id or 0}"
            quantity = cleaning.quantity(item.get("model_quantity_purchased"), "model_quantity_purchased")
            price_value = item.get("model_discounted_price")
            if price_value is None:
                price_value = item.get("model_original_price")
            price = _amount(price_value, "model_discounted_price")
            line_id = f"{item_id}:{model_id or 0}" if item_id else ""
            if line_id:  # the same model can appear twice (e.g. add-on deals): keep the lines apart
                seen[line_id] = seen.get(line_id, 0) + 1
                line_id = line_id if seen[line_id] == 1 else f"{line_id}#{seen[line_id]}"
            title = " ".join(filter(None, [str(item.get("item_name") or ""), str(item.get("model_name") or "")]))
            lines.append(LineData(platform_line_id=line_id, platform_sku=sku[:128], title=title[:500],
                                  quantity=quantity, unit_price=price, line_total=price * quantity))
        if not lines:
            raise CleaningError("订单没有商品行")
        buyer = str(record.get("buyer_user_id") or record.get("buyer_username") or "")
        country = cleaning.country(address.get("region") or record.get("region"))
        return OrderData(
            platform_order_id=str(record["order_sn"]), order_number=str(record["order_sn"]),
            ordered_at=_unix(record.get("create_time"), "create_time"), currency=currency,
            status=status, platform_status=raw_status, buyer_country=country,
            items_amount=sum((line.line_total for line in lines), Decimal("0.00")),
            platform_fee=(total * self.shop.fee_rate).quantize(Decimal("0.01")), total_amount=total,
            paid_at=_unix(record.get("pay_time"), "pay_time", required=False),
            cancelled_at=updated_at if status == Order.Status.CANCELLED else None,
            platform_updated_at=updated_at,
            customer=CustomerData(platform_buyer_id=buyer, name=str(record.get("buyer_username") or ""),
                                  country=country),
            lines=lines,
        )

    async def _listings(self) -> list[ListingRecord]:
        """Every NORMAL item with its models (get_item_list → get_item_base_info → get_model_list);
        not in the contract file."""
        records: list[ListingRecord] = []
        async with self._client() as client:
            item_ids, offset = [], 0
            while True:
                data = await self._get(client, ITEM_LIST, {"offset": offset, "page_size": 100, "item_status": "NORMAL"})
                item_ids += [str(i["item_id"]) for i in data.get("item") or [] if isinstance(i, dict) and i.get("item_id")]
                if not data.get("has_next_page"):
                    break
                next_offset = int(data.get("next_offset") or 0)
                if next_offset <= offset:
                    raise ConnectorError(f"get_item_list 应答 has_next_page=true 但 next_offset 无效：{next_offset}")
                offset = next_offset
            for index in range(0, len(item_ids), ITEM_BATCH):
                data = await self._get(client, ITEM_BASE_INFO,
                                       {"item_id_list": ",".join(item_ids[index:index + ITEM_BATCH])})
                for item in data.get("item_list") or []:
                    item_id, title = str(item.get("item_id")), str(item.get("item_name") or "")
                    if item.get("has_model"):
                        models = (await self._get(client, MODEL_LIST, {"item_id": item_id})).get("model") or []
                        for model in models:
                            sku = str(model.get("model_sku") or "").strip() or str(item.get("item_sku") or "").strip()
                            records.append(self._listing(model, sku or f"shopee-{item_id}-{model.get('model_id')}",
                                                         title, item_id))
                    else:
                        sku = str(item.get("item_sku") or "").strip() or f"shopee-{item_id}-0"
                        records.append(self._listing(item, sku, title, item_id))
        return records

    def _listing(self, source: dict, sku: str, title: str, item_id: str) -> ListingRecord:
        prices = source.get("price_info") or []
        price_info = prices[0] if prices and isinstance(prices[0], dict) else {}
        return ListingRecord(
            platform_sku=sku[:128], title=title, platform_item_id=item_id,
            price=None if price_info.get("current_price") is None else _amount(price_info["current_price"], "current_price"),
            currency=str(price_info.get("currency") or self.shop.currency), platform_stock=_stock(source),
        )

    async def collect_products(self):
        return await self._listings()

    async def collect_inventory(self):
        return [StockRecord(platform_sku=r.platform_sku, quantity=r.platform_stock, platform_item_id=r.platform_item_id)
                for r in await self._listings() if r.platform_stock is not None]

    async def test_connection(self) -> str:
        async with self._client() as client:
            data = await self._get(client, SHOP_INFO)
        return str(data.get("shop_name") or "Shopee")


def _stock(source: dict) -> int | None:
    """stock_info_v2.summary_info.total_available_stock, else the older stock_info list."""
    summary = (source.get("stock_info_v2") or {}).get("summary_info") or {}
    if summary.get("total_available_stock") is not None:
        return max(0, int(summary["total_available_stock"]))
    levels = [s for s in source.get("stock_info") or [] if isinstance(s, dict)]
    if levels:
        return max(0, sum(int(s.get("normal_stock", s.get("current_stock")) or 0) for s in levels))
    return None
