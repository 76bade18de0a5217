"""eBay Sell Fulfillment (shared/contracts/ebay.md).

- Auth: `Authorization: Bearer <user access token>`. The token is refreshed with the OAuth
  refresh-token grant (POST /identity/v1/oauth2/token, Basic base64(client_id:client_secret), form
  grant_type=refresh_token&refresh_token&scope) before the first call when the stored expiry has
  passed, and once after a 401; the new token is handed to the run through `updated_credentials`
  so it is saved with the shop. A refused refresh or a second 401 is an AuthError.
  Credentials: access_token, refresh_token, client_id, client_secret, optional scope and
  access_token_expires_at (ISO 8601, written by us).
- Orders: GET /sell/fulfillment/v1/order?filter=lastmodifieddate:[a..b] (httpx percent-encodes
  `[ ] { | }`), limit ≤ 200 + 0-based offset. The server's range is inclusive at both ends, so an
  order modified exactly at `until` may be seen by two runs — harmless, the upsert is idempotent.
  The checkpoint is {"offset": next offset, "next": next href, "total": the set's size}; a resumed
  run re-sends the same filter with that offset. More pages exist when `next` is present (or,
  tolerantly, when offset + returned < total).
- An order modified while a run pages leaves the window (its lastModifiedDate passes the fixed
  window end) and would make a later order slide unread into the pages already read: `total` is
  compared page by page (and with the checkpoint's on resume) and a page whose total fell by d is
  read again d places back (base.ResultSetWatch; eBay documents no sort order, so no keyset).
- 429 is handled like 5xx (exponential back-off with jitter, Retry-After honoured if ever sent):
  eBay's rate-limit numbers and 429 body are unverified.

Status mapping (the raw `orderFulfillmentStatus/orderPaymentStatus/cancelState` is kept in
platform_status), first match wins:
  cancelState CANCELED                      → cancelled
  orderPaymentStatus FULLY_REFUNDED         → refunded
  orderPaymentStatus PARTIALLY_REFUNDED     → partially_refunded
  orderPaymentStatus PENDING or FAILED      → pending  (not paid; FAILED may still be paid later)
  orderFulfillmentStatus FULFILLED          → shipped
  otherwise (PAID, NOT_STARTED/IN_PROGRESS) → paid
An unknown payment or fulfilment status is a CleaningError (the record is quarantined, not guessed).

Amounts: `pricingSummary.total` is the order total; `lineItemCost` is the cost of the whole line
(unit price × quantity, as eBay documents it), so unit_price = lineItemCost / quantity. Refunds are
Σ paymentSummary.refunds[].amount except FAILED ones, capped at the total. eBay reports no ship
date in the order, so shipped_at stays empty (the status carries the stock effect)."""
import base64
import datetime as dt
import logging
from contextlib import asynccontextmanager
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx

from apps.sales.ingest import CustomerData, LineData, OrderData
from apps.sales.models import Order

from . import cleaning, register
from .base import DataCollector, ListingRecord, Page, ResultSetWatch, StockRecord
from .errors import AuthError, CleaningError, ConnectorError
from .http import PlatformClient

logger = logging.getLogger("erp.connectors")

ORDERS_PATH = "/sell/fulfillment/v1/order"
INVENTORY_PATH = "/sell/inventory/v1/inventory_item"
TOKEN_PATH = "/identity/v1/oauth2/token"
PAGE_SIZE = 200  # eBay's maximum `limit`; tests monkeypatch it
MAX_LIMIT = 200
DEFAULT_SCOPE = ("https://api.ebay.com/oauth/api_scope/sell.fulfillment.readonly "
                 "https://api.ebay.com/oauth/api_scope/sell.inventory.readonly")
REFRESH_MARGIN = dt.timedelta(seconds=60)

_PAYMENT = {"FAILED", "FULLY_REFUNDED", "PAID", "PARTIALLY_REFUNDED", "PENDING"}
_FULFILLMENT = {"NOT_STARTED", "IN_PROGRESS", "FULFILLED"}


def ebay_time(moment: dt.datetime) -> str:
    moment = moment.astimezone(dt.UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def order_filter(since: dt.datetime, until: dt.datetime) -> str:
    return f"lastmodifieddate:[{ebay_time(since)}..{ebay_time(until)}]"


def order_status(record: dict) -> str:
    cancel = str((record.get("cancelStatus") or {}).get("cancelState") or "").upper()
    payment = str(record.get("orderPaymentStatus") or "").upper()
    fulfillment = str(record.get("orderFulfillmentStatus") or "").upper()
    if payment not in _PAYMENT:
        raise CleaningError(f"未知的付款状态 orderPaymentStatus={payment or '（空）'}")
    if fulfillment not in _FULFILLMENT:
        raise CleaningError(f"未知的发货状态 orderFulfillmentStatus={fulfillment or '（空）'}")
    if cancel in ("CANCELED", "CANCELLED"):
        return Order.Status.CANCELLED
    if payment == "FULLY_REFUNDED":
        return Order.Status.REFUNDED
    if payment == "PARTIALLY_REFUNDED":
        return Order.Status.PARTIALLY_REFUNDED
    if payment in ("PENDING", "FAILED"):
        return Order.Status.PENDING
    if fulfillment == "FULFILLED":
        return Order.Status.SHIPPED
    return Order.Status.PAID


def ebay_error(response: httpx.Response) -> str | None:
    """eBay's `{"errors": [{errorId, domain, category, message}]}` as one readable line."""
    if response.status_code < 400:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    items = body.get("errors") if isinstance(body, dict) else None
    if not items:
        return None
    return "；".join(
        f"eBay 错误 {e.get('errorId')}（{e.get('domain')}/{e.get('category')}）：{e.get('message')}"
        + (f" {e['longMessage']}" if e.get("longMessage") else "")
        for e in items if isinstance(e, dict)
    )


def _token_error(response: httpx.Response) -> str | None:
    """A refused refresh (400 invalid_grant / invalid_scope …) means the shop must re-authorise."""
    if response.status_code < 400:
        return None
    try:
        body = response.json()
    except ValueError:
        body = {}
    if isinstance(body, dict) and body.get("error"):
        raise AuthError(f"eBay 拒绝刷新访问令牌（HTTP {response.status_code} {body['error']}）："
                        f"{body.get('error_description', '')}")
    return None


def _offset_of(href: str | None) -> int | None:
    if not href:
        return None
    try:
        return int(parse_qs(urlsplit(href).query).get("offset", [""])[0])
    except ValueError:
        return None


def _value(amount) -> object:
    """{value, currency} or a bare value."""
    return amount.get("value") if isinstance(amount, dict) else amount


@register("ebay")
class EbayCollector(DataCollector):
    _http: PlatformClient | None = None

    # --- auth -------------------------------------------------------------------------------
    def _token_expired(self) -> bool:
        creds = self.shop.credentials
        if not creds.get("access_token"):
            return True
        expires = creds.get("access_token_expires_at")
        if not expires:
            return False
        try:
            moment = dt.datetime.fromisoformat(str(expires).replace("Z", "+00:00"))
        except ValueError:
            return True
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return moment - REFRESH_MARGIN <= dt.datetime.now(dt.UTC)

    async def _refresh(self) -> None:
        creds = self.shop.credentials
        missing = [k for k in ("refresh_token", "client_id", "client_secret") if not creds.get(k)]
        if missing:
            raise AuthError(f"eBay 访问令牌无效，且缺少 {', '.join(missing)}，无法刷新。")
        basic = base64.b64encode(f"{creds['client_id']}:{creds['client_secret']}".encode()).decode()
        async with PlatformClient(base_url=self.shop.base_url, budget=6) as client:
            response = await client.request(
                "POST", TOKEN_PATH, headers={"Authorization": f"Basic {basic}"}, is_error=_token_error,
                data={"grant_type": "refresh_token", "refresh_token": creds["refresh_token"],
                      "scope": creds.get("scope") or DEFAULT_SCOPE},
            )
        body = response.json()
        token = body.get("access_token") if isinstance(body, dict) else None
        if not token:
            raise AuthError("eBay 刷新令牌的响应里没有 access_token。")
        try:
            lifetime = int(body.get("expires_in") or 7200)
        except (TypeError, ValueError):
            lifetime = 7200
        fresh = {**creds, "access_token": token,
                 "access_token_expires_at": (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=lifetime)).isoformat()}
        if body.get("refresh_token"):
            fresh["refresh_token"] = body["refresh_token"]
        self.shop.credentials = fresh
        self.updated_credentials = dict(fresh)
        if self._http is not None:
            self._http.client.headers["Authorization"] = f"Bearer {token}"
        logger.info("eBay access token refreshed for shop %s", self.shop.shop_id)

    @asynccontextmanager
    async def _session(self):
        async with PlatformClient(
            base_url=self.shop.base_url, budget=self.shop.request_budget, refresh_auth=self._refresh,
            headers={"Authorization": f"Bearer {self.shop.credentials.get('access_token', '')}",
                     "Accept": "application/json"},
        ) as client:
            self._http = client
            try:
                if self._token_expired():
                    await self._refresh()
                yield client
            finally:
                self._http = None

    # --- orders -----------------------------------------------------------------------------
    async def collect_orders(self, since, until, checkpoint=None):
        limit = max(1, min(PAGE_SIZE, MAX_LIMIT))
        checkpoint = checkpoint or {}
        offset = checkpoint.get("offset")
        if offset is None:
            offset = _offset_of(checkpoint.get("next")) or 0
        offset = int(offset)
        watch = ResultSetWatch(total=checkpoint.get("total"))
        params = {"filter": order_filter(since, until), "limit": limit}
        async with self._session() as client:
            while True:
                response = await client.request("GET", ORDERS_PATH, params={**params, "offset": offset},
                                                is_error=ebay_error)
                body = response.json()
                orders = body.get("orders") or []
                for warning in body.get("warnings") or []:
                    logger.warning("eBay getOrders warning: %s", warning)
                total = body.get("total") if isinstance(body.get("total"), int) else None
                again = watch.reread_from(offset, total) if total is not None else (
                    None if orders else watch.lost_track(offset))
                if again is not None:
                    logger.info("eBay order set changed while paging (total %s); reading again from offset %s",
                                total, again)
                    offset = again
                    continue
                following = None
                if orders:
                    if body.get("next"):
                        following = _offset_of(body["next"])
                        if following is None:
                            following = int(body.get("offset") or offset) + len(orders)
                    elif total is not None and offset + len(orders) < total:
                        following = offset + len(orders)
                if following is not None and following <= offset:
                    raise ConnectorError(f"eBay 分页没有前进（offset {offset} → {following}）。")
                yield Page(records=orders, next_checkpoint=None if following is None else
                           {"offset": following, "next": body.get("next"), "total": watch.total})
                if following is None:
                    return
                offset = following

    def normalize_order(self, record: dict) -> OrderData:
        if not isinstance(record, dict) or not record.get("orderId"):
            raise CleaningError("订单缺少 orderId")
        pricing = record.get("pricingSummary") or {}
        total_amount = pricing.get("total") or {}
        currency = str((total_amount.get("currency") if isinstance(total_amount, dict) else "") or "").upper()
        if not currency:
            raise CleaningError("pricingSummary.total.currency 缺失")
        total = cleaning.money(_value(total_amount), "pricingSummary.total")
        status = order_status(record)
        lines = []
        for item in record.get("lineItems") or []:
            quantity = cleaning.quantity(item.get("quantity"), "lineItems.quantity")
            line_total = cleaning.money(_value(item.get("lineItemCost")), "lineItems.lineItemCost")
            lines.append(LineData(
                platform_line_id=str(item.get("lineItemId") or ""),
                platform_sku=item.get("sku") or f"ebay-item-{item.get('legacyItemId') or item.get('lineItemId')}",
                title=item.get("title") or "", quantity=quantity,
                unit_price=(line_total / quantity).quantize(Decimal("0.01")), line_total=line_total,
            ))
        if not lines:
            raise CleaningError("订单没有商品行")
        payments = record.get("paymentSummary") or {}
        refunded = sum(
            (cleaning.money(_value(refund.get("amount")), "paymentSummary.refunds.amount")
             for refund in payments.get("refunds") or []
             if isinstance(refund, dict) and str(refund.get("refundStatus") or "").upper() != "FAILED"),
            Decimal("0.00"),
        )
        paid_dates = [p.get("paymentDate") for p in payments.get("payments") or []
                      if isinstance(p, dict) and p.get("paymentDate")]
        buyer = record.get("buyer") or {}
        registration = buyer.get("buyerRegistrationAddress") or {}
        ship_to = {}
        for instruction in record.get("fulfillmentStartInstructions") or []:
            ship_to = ((instruction or {}).get("shippingStep") or {}).get("shipTo") or {}
            if ship_to:
                break
        cancel = record.get("cancelStatus") or {}
        fee = record.get("totalMarketplaceFee")
        platform_fee = (cleaning.money(_value(fee), "totalMarketplaceFee") if fee is not None
                        else (total * self.shop.fee_rate).quantize(Decimal("0.01")))
        updated_at = cleaning.timestamp(record.get("lastModifiedDate"), "lastModifiedDate", required=False)
        return OrderData(
            platform_order_id=str(record["orderId"]), order_number=str(record["orderId"])[:64],
            ordered_at=cleaning.timestamp(record.get("creationDate"), "creationDate"), currency=currency,
            status=status,
            platform_status="/".join([str(record.get("orderFulfillmentStatus")), str(record.get("orderPaymentStatus")),
                                      str(cancel.get("cancelState") or "NONE_REQUESTED")])[:64],
            buyer_country=cleaning.country((ship_to.get("contactAddress") or {}).get("countryCode")),
            items_amount=(cleaning.money(_value(pricing["priceSubtotal"]), "priceSubtotal") if pricing.get("priceSubtotal")
                          else sum((line.line_total for line in lines), Decimal("0.00"))),
            shipping_amount=cleaning.money(_value(pricing.get("deliveryCost")), "deliveryCost", required=False),
            tax_amount=cleaning.money(_value(pricing.get("tax")), "tax", required=False),
            discount_amount=abs(cleaning.money(_value(pricing.get("priceDiscount")), "priceDiscount", required=False)),
            platform_fee=platform_fee, refund_amount=min(refunded, total), total_amount=total,
            paid_at=cleaning.timestamp(min(paid_dates), "paymentDate", required=False) if paid_dates else None,
            cancelled_at=(cleaning.timestamp(cancel.get("cancelledDate"), "cancelledDate", required=False) or updated_at)
            if status == Order.Status.CANCELLED else None,
            platform_updated_at=updated_at,
            customer=CustomerData(platform_buyer_id=str(buyer.get("username") or ""),
                                  email=registration.get("email") or "",
                                  name=registration.get("fullName") or ship_to.get("fullName") or ""),
            lines=lines,
        )

    # --- listings and stock (Sell Inventory API, inventory_item: limit ≤ 200 + offset) ------
    async def _inventory_items(self) -> list[dict]:
        items, offset, limit = [], 0, max(1, min(PAGE_SIZE, MAX_LIMIT))
        async with self._session() as client:
            while True:
                response = await client.request("GET", INVENTORY_PATH, params={"limit": limit, "offset": offset},
                                                is_error=ebay_error)
                body = response.json()
                page = body.get("inventoryItems") or []
                items.extend(page)
                following = _offset_of(body.get("next")) if body.get("next") and page else None
                if following is None or following <= offset:
                    return items
                offset = following

    async def collect_products(self):
        return [
            ListingRecord(platform_sku=item["sku"], title=(item.get("product") or {}).get("title") or "",
                          platform_item_id=item["sku"], currency=self.shop.currency,
                          platform_stock=_ship_quantity(item))
            for item in await self._inventory_items() if item.get("sku")
        ]

    async def collect_inventory(self):
        records = []
        for item in await self._inventory_items():
            quantity = _ship_quantity(item)
            if item.get("sku") and quantity is not None:
                records.append(StockRecord(platform_sku=item["sku"], quantity=quantity))
        return records

    async def test_connection(self) -> str:
        async with self._session() as client:
            response = await client.request("GET", ORDERS_PATH, params={"limit": 1}, is_error=ebay_error)
        return f"eBay 卖家账户（近 90 天 {response.json().get('total', 0)} 个订单）"


def _ship_quantity(item: dict) -> int | None:
    value = ((item.get("availability") or {}).get("shipToLocationAvailability") or {}).get("quantity")
    try:
        return max(0, int(value)) if value is not None else None
    except (TypeError, ValueError):
        return None
