"""Amazon Selling Partner API (shared/contracts/amazon.md): LWA token refresh, Orders v0 with
their items, FBA inventory summaries.

Rules this connector follows (where the contract leaves a choice):
- Credentials: `refresh_token`, `client_id`, `client_secret`, `marketplace_id` (else derived from
  the shop's marketplace, e.g. "Amazon.de" or "DE"), optionally `access_token` with
  `access_token_expires_at`. After a refresh the new token and its expiry go to
  `updated_credentials`, so the run stores them with the shop.
- Token URL: `credentials["token_url"]` if set; against Amazon's own hosts (`*.amazon.com`) LWA's
  https://api.amazon.com/auth/o2/token; any other base URL (the local contract server, a proxy)
  serves the token endpoint itself at `/auth/o2/token`.
- Auth: the access token is refreshed before the first call when it is missing or about to
  expire, and once more when a call is refused (SP-API answers an expired token with 403
  Unauthorized); refused again, or LWA refusing the refresh token, is an AuthError.
- Orders: by LastUpdatedAfter/LastUpdatedBefore, `until` clamped to just over two minutes before
  now (the API's rule; the next run's overlap window covers the gap). NextToken pages keep the
  original filters, so the checkpoint is `{"next_token": …}` of the next page. Each yielded order
  carries its items under "OrderItems" (getOrderItems, with its own NextToken).
- Status: Pending/PendingAvailability → pending, Unshipped/PartiallyShipped → paid,
  Shipped/InvoiceUnconfirmed (shipped, invoice not yet confirmed) → shipped, Canceled and
  Unfulfillable (a multi-channel order FBA cannot fulfil) → cancelled; the raw status is kept.
  Same mapping as the "All Orders" report import.
- Money: `ItemPrice` is for the whole quantity (unit = ItemPrice / QuantityOrdered, half up);
  a Pending order has no OrderTotal and no item prices yet, so its total is the sum of its items
  (0). v0 reports no refunds and no fees: refunds stay 0, the fee is the shop's fee rate.
- Lines are keyed by SellerSKU, like the report import, so an order first imported from the
  report and later collected through the API keeps its lines (and its stock effect happens once).
  Zero-quantity items (cancelled items) carry nothing and are left out.
- AFN orders are fulfilled by Amazon: channel "platform", so they never move our stock.
  Multi-channel fulfilment orders (SalesChannel "Non-Amazon") are not this shop's sales: skipped.
- Products: SP-API has no cheap listings call in this contract; listings are derived from the FBA
  inventory summaries (sellerSku, productName, asin, fulfillable quantity), i.e. FBA listings only.
- Stock: FBA `fulfillableQuantity` per sellerSku (what Amazon can sell now = the FBA warehouse's
  on-hand).
"""
import datetime as dt
import logging
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlsplit

import httpx

from apps.core.money import CENT, ZERO
from apps.sales.ingest import CustomerData, LineData, OrderData
from apps.sales.models import Order

from . import cleaning, register
from .base import DataCollector, ListingRecord, Page, StockRecord
from .errors import AuthError, CleaningError, ConnectorError
from .http import PlatformClient, RetryPolicy

logger = logging.getLogger("erp.connectors")

PAGE_SIZE = 100  # MaxResultsPerPage: 1–100
LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"
TOKEN_PATH = "/auth/o2/token"
ORDERS_PATH = "/orders/v0/orders"
INVENTORY_PATH = "/fba/inventory/v1/summaries"
USER_AGENT = "cbec-erp/1.0 (Language=Python; Platform=httpx)"
# LastUpdatedBefore must be at least two minutes before the request; a few seconds for clock skew.
LATEST_ALLOWED_AGE = dt.timedelta(minutes=2, seconds=5)
TOKEN_EXPIRY_MARGIN = dt.timedelta(seconds=60)

Status = Order.Status
ORDER_STATUS = {
    "Pending": Status.PENDING,
    "PendingAvailability": Status.PENDING,  # a pre-order: not charged yet
    "Unshipped": Status.PAID,
    "PartiallyShipped": Status.PAID,
    "Shipped": Status.SHIPPED,
    "InvoiceUnconfirmed": Status.SHIPPED,  # shipped, the seller has not confirmed the invoice
    "Canceled": Status.CANCELLED,
    "Unfulfillable": Status.CANCELLED,  # multi-channel order FBA cannot fulfil
}
# Marketplace id → (country code, sales channel).
MARKETPLACES = {
    "ATVPDKIKX0DER": ("US", "Amazon.com"),
    "A2EUQ1WTGCTBG2": ("CA", "Amazon.ca"),
    "A1AM78C64UM0Y8": ("MX", "Amazon.com.mx"),
    "A2Q3Y263D00KWC": ("BR", "Amazon.com.br"),
    "A1F83G8C2ARO7P": ("GB", "Amazon.co.uk"),
    "A1PA6795UKMFR9": ("DE", "Amazon.de"),
    "A13V1IB3VIYZZH": ("FR", "Amazon.fr"),
    "APJ6JRA9NG5V4": ("IT", "Amazon.it"),
    "A1RKKUPIHCS9HS": ("ES", "Amazon.es"),
    "A1805IZSGTT6HS": ("NL", "Amazon.nl"),
    "A2NODRKZP88ZB9": ("SE", "Amazon.se"),
    "A1C3SOZRARQ6R3": ("PL", "Amazon.pl"),
    "A1VC38T7YXB528": ("JP", "Amazon.co.jp"),
    "A39IBJ37TRP1C6": ("AU", "Amazon.com.au"),
    "A21TJRUUN4KGV": ("IN", "Amazon.in"),
}


def order_status(raw: str) -> str:
    status = ORDER_STATUS.get(raw or "")
    if status is None:
        raise CleaningError(f"未知的亚马逊订单状态：{raw!r}")
    return status


def token_url(base_url: str, credentials: dict) -> str:
    if credentials.get("token_url"):
        return credentials["token_url"]
    host = (urlsplit(base_url).hostname or "").lower()
    if host == "amazon.com" or host.endswith(".amazon.com"):
        return LWA_TOKEN_URL
    return base_url.rstrip("/") + TOKEN_PATH


def marketplace_id(credentials: dict, marketplace: str) -> str:
    if credentials.get("marketplace_id"):
        return credentials["marketplace_id"]
    wanted = (marketplace or "").strip().lower()
    for mid, (country, channel) in MARKETPLACES.items():
        if wanted in (mid.lower(), country.lower(), channel.lower()):
            return mid
    raise ConnectorError("店铺凭证缺少 marketplace_id，且无法从站点推断亚马逊 MarketplaceId。")


def amazon_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sp_api_problem(response: httpx.Response) -> str | None:
    """The SP-API error body (`{"errors":[{code, message, details}]}`) as text, also in a 2xx."""
    try:
        body = response.json()
    except ValueError:
        return None if response.status_code >= 400 else "响应不是 JSON"
    errors = body.get("errors") if isinstance(body, dict) else None
    if not errors:
        return None
    if not isinstance(errors, list):
        return str(errors)[:300]
    return "; ".join(
        " ".join(filter(None, [str(e.get("code") or ""), str(e.get("message") or ""), str(e.get("details") or "")]))
        for e in errors if isinstance(e, dict)
    )[:500] or str(errors)[:300]


def lwa_problem(response: httpx.Response) -> str | None:
    """LWA refuses a refresh token with 400 invalid_grant (401 invalid_client is an AuthError
    already): both mean the seller has to authorise the app again."""
    if response.status_code < 400:
        return None
    try:
        body = response.json()
    except ValueError:
        body = {}
    error = body.get("error") if isinstance(body, dict) else None
    if error in ("invalid_grant", "invalid_client", "unauthorized_client"):
        raise AuthError(f"亚马逊 LWA 拒绝刷新令牌：{error}：{body.get('error_description', '')}")
    return f"{error}: {body.get('error_description', '')}" if error else None


class LwaAuth(httpx.Auth):
    """Puts the current access token (and the request time) on every SP-API request."""

    def __init__(self, token: str):
        self.token = token

    def auth_flow(self, request):
        request.headers["x-amz-access-token"] = self.token
        request.headers["x-amz-date"] = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        yield request


def _money(item: dict, field: str, currencies: set[str]) -> Decimal:
    value = item.get(field)
    if not value:
        return ZERO
    if not isinstance(value, dict):
        raise CleaningError(f"{field} 格式无效：{value!r}")
    if value.get("CurrencyCode"):
        currencies.add(str(value["CurrencyCode"]).upper())
    return cleaning.money(value.get("Amount"), field, required=False)


@register("amazon")
class AmazonCollector(DataCollector):
    def __init__(self, shop):
        super().__init__(shop)
        credentials = shop.credentials
        self._auth = LwaAuth(credentials.get("access_token") or "")
        self._expires_at: dt.datetime | None = None
        if credentials.get("access_token_expires_at"):
            try:
                self._expires_at = cleaning.timestamp(credentials["access_token_expires_at"], "expires_at")
            except CleaningError:  # unreadable: treat the token as expired and get a new one
                self._expires_at = dt.datetime.min.replace(tzinfo=dt.UTC)

    @property
    def marketplace_id(self) -> str:
        return marketplace_id(self.shop.credentials, self.shop.marketplace)

    @property
    def token_url(self) -> str:
        return token_url(self.shop.base_url, self.shop.credentials)

    def _retry(self) -> RetryPolicy:
        # 429s come without Retry-After and getOrders refills one request a minute: back off longer.
        return RetryPolicy(max_attempts=8, max_delay=60.0)

    def _client(self) -> PlatformClient:
        return PlatformClient(base_url=self.shop.base_url, budget=self.shop.request_budget, retry=self._retry(),
                              headers={"user-agent": USER_AGENT, "accept": "application/json"}, auth=self._auth)

    # Tokens ------------------------------------------------------------------------------------

    async def _refresh_token(self) -> None:
        credentials = self.shop.credentials
        missing = [k for k in ("refresh_token", "client_id", "client_secret") if not credentials.get(k)]
        if missing:
            raise AuthError(f"店铺凭证缺少 {', '.join(missing)}，无法换取亚马逊访问令牌。")
        async with PlatformClient(base_url="", budget=self.shop.request_budget, retry=self._retry(),
                                  headers={"user-agent": USER_AGENT, "accept": "application/json"}) as lwa:
            response = await lwa.request("POST", self.token_url, is_error=lwa_problem, data={
                "grant_type": "refresh_token", "refresh_token": credentials["refresh_token"],
                "client_id": credentials["client_id"], "client_secret": credentials["client_secret"],
            })
        body = response.json()
        if not body.get("access_token"):
            raise ConnectorError(f"亚马逊 LWA 未返回 access_token：{response.text[:200]}")
        try:
            lifetime = int(body.get("expires_in") or 3600)
        except (TypeError, ValueError):
            lifetime = 3600
        self._auth.token = body["access_token"]
        self._expires_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=lifetime)
        updated = {**credentials, "access_token": self._auth.token,
                   "access_token_expires_at": self._expires_at.isoformat()}
        if body.get("refresh_token"):
            updated["refresh_token"] = body["refresh_token"]
        self.shop.credentials = updated
        self.updated_credentials = updated

    def _token_usable(self) -> bool:
        if not self._auth.token:
            return False
        return self._expires_at is None or self._expires_at - TOKEN_EXPIRY_MARGIN > dt.datetime.now(dt.UTC)

    async def _get(self, client: PlatformClient, path: str, params: dict) -> dict:
        """One SP-API GET: a fresh token first if needed, else one refresh when the call is refused
        (SP-API answers an expired token with 403 Unauthorized); refused again is an AuthError."""
        fresh = not self._token_usable()
        if fresh:
            await self._refresh_token()
        try:
            response = await client.request("GET", path, params=params, is_error=sp_api_problem)
        except AuthError:
            if fresh:
                raise
            await self._refresh_token()
            response = await client.request("GET", path, params=params, is_error=sp_api_problem)
        body = response.json()
        if not isinstance(body, dict):
            raise ConnectorError(f"亚马逊接口返回了意外的内容：{response.text[:200]}")
        return body

    # Orders ------------------------------------------------------------------------------------

    async def collect_orders(self, since, until, checkpoint=None):
        marketplace = self.marketplace_id
        token = (checkpoint or {}).get("next_token")
        if token:
            params = {"MarketplaceIds": marketplace, "NextToken": token}
        else:
            before = min(until, dt.datetime.now(dt.UTC) - LATEST_ALLOWED_AGE)
            if before <= since:
                return  # nothing the API may be asked for yet; the next run's overlap covers it
            params = {"MarketplaceIds": marketplace, "LastUpdatedAfter": amazon_time(since),
                      "LastUpdatedBefore": amazon_time(before), "MaxResultsPerPage": PAGE_SIZE}
        async with self._client() as client:
            while True:
                payload = (await self._get(client, ORDERS_PATH, params)).get("payload") or {}
                orders = [o for o in payload.get("Orders") or []
                          if not (isinstance(o, dict) and str(o.get("SalesChannel") or "").lower() == "non-amazon")]
                for order in orders:
                    if isinstance(order, dict) and order.get("AmazonOrderId"):
                        order["OrderItems"] = await self._order_items(client, str(order["AmazonOrderId"]))
                token = payload.get("NextToken")
                yield Page(records=orders, next_checkpoint={"next_token": token} if token else None)
                if not token:
                    return
                params = {"MarketplaceIds": marketplace, "NextToken": token}

    async def _order_items(self, client: PlatformClient, order_id: str) -> list[dict]:
        items, params = [], {}
        while True:
            payload = (await self._get(client, f"{ORDERS_PATH}/{order_id}/orderItems", params)).get("payload") or {}
            items.extend(payload.get("OrderItems") or [])
            if not payload.get("NextToken"):
                return items
            params = {"NextToken": payload["NextToken"]}

    def normalize_order(self, record: dict) -> OrderData:
        if not isinstance(record, dict) or not record.get("AmazonOrderId"):
            raise CleaningError("订单缺少 AmazonOrderId")
        raw_status = str(record.get("OrderStatus") or "")
        status = order_status(raw_status)
        ordered_at = cleaning.timestamp(record.get("PurchaseDate"), "PurchaseDate")
        updated_at = cleaning.timestamp(record.get("LastUpdateDate"), "LastUpdateDate", required=False)
        items = record.get("OrderItems")
        if not isinstance(items, list):
            raise CleaningError("订单缺少商品行（OrderItems）")
        currencies: set[str] = set()
        total = None  # a Pending order has no OrderTotal yet
        if record.get("OrderTotal"):
            total = _money(record, "OrderTotal", currencies)
            if not isinstance(record["OrderTotal"], dict) or record["OrderTotal"].get("Amount") in (None, ""):
                raise CleaningError("OrderTotal 缺少 Amount")
        lines: dict[str, LineData] = {}
        items_amount = shipping = tax = discount = ZERO
        for item in items:
            if not isinstance(item, dict):
                raise CleaningError(f"商品行格式无效：{item!r}"[:200])
            sku = str(item.get("SellerSKU") or "") or (f"amazon-asin-{item['ASIN']}" if item.get("ASIN") else "")
            if not sku:
                raise CleaningError("商品行缺少 SellerSKU 和 ASIN")
            try:
                quantity = int(item.get("QuantityOrdered"))
            except (TypeError, ValueError) as exc:
                raise CleaningError(f"{sku} 的 QuantityOrdered 不是整数：{item.get('QuantityOrdered')!r}") from exc
            if quantity < 0:
                raise CleaningError(f"{sku} 的 QuantityOrdered 不能为负数")
            price = _money(item, "ItemPrice", currencies) + _money(item, "GiftWrapPrice", currencies)
            item_shipping = _money(item, "ShippingPrice", currencies)
            item_tax = sum((_money(item, f, currencies) for f in ("ItemTax", "ShippingTax", "GiftWrapTax")), ZERO)
            item_discount = abs(_money(item, "PromotionDiscount", currencies)) + abs(
                _money(item, "ShippingDiscount", currencies))
            if quantity == 0:
                continue  # a cancelled item: nothing was sold
            items_amount += price
            shipping += item_shipping
            tax += item_tax
            discount += item_discount
            line = lines.get(sku)
            if line is None:
                lines[sku] = LineData(platform_sku=sku, title=str(item.get("Title") or "")[:500], quantity=quantity,
                                      unit_price=ZERO, line_total=price)
            else:  # the same SKU twice is one line (as in the report import)
                line.quantity += quantity
                line.line_total += price
        for line in lines.values():
            line.unit_price = (line.line_total / line.quantity).quantize(CENT, rounding=ROUND_HALF_UP)
        if not lines and status != Status.CANCELLED:
            raise CleaningError("订单没有商品行")
        if len(currencies) > 1:
            raise CleaningError(f"同一订单的币种不一致：{sorted(currencies)}")
        currency = (next(iter(currencies), None) or self.shop.currency or "").upper()
        if total is None:  # the sum of the items: 0 for a Pending order, whose items have no prices yet
            total = max(items_amount + shipping + tax - discount, ZERO)
        address = record.get("ShippingAddress") or {}
        buyer = record.get("BuyerInfo") or {}
        country = cleaning.country(address.get("CountryCode"))
        channel = str(record.get("FulfillmentChannel") or "").lower()
        return OrderData(
            platform_order_id=str(record["AmazonOrderId"])[:64],
            order_number=str(record.get("SellerOrderId") or record["AmazonOrderId"])[:64],
            ordered_at=ordered_at, currency=currency, status=status, platform_status=raw_status[:64],
            fulfillment_channel=Order.FulfillmentChannel.PLATFORM if channel in ("afn", "amazon")
            else Order.FulfillmentChannel.MERCHANT,
            buyer_country=country, items_amount=items_amount, shipping_amount=shipping, tax_amount=tax,
            discount_amount=min(discount, items_amount + shipping + tax),
            platform_fee=(total * self.shop.fee_rate).quantize(CENT, rounding=ROUND_HALF_UP),
            total_amount=total,
            cancelled_at=updated_at if status == Status.CANCELLED else None,
            platform_updated_at=updated_at,
            customer=CustomerData(email=str(buyer.get("BuyerEmail")), name=str(buyer.get("BuyerName") or "")[:200],
                                  country=country) if buyer.get("BuyerEmail") else None,
            lines=list(lines.values()),
        )

    # FBA inventory ------------------------------------------------------------------------------

    async def _inventory_summaries(self) -> list[dict]:
        marketplace = self.marketplace_id
        params = {"granularityType": "Marketplace", "granularityId": marketplace, "marketplaceIds": marketplace,
                  "details": "true"}
        summaries = []
        async with self._client() as client:
            while True:
                body = await self._get(client, INVENTORY_PATH, params)
                payload = body.get("payload") or {}
                summaries.extend(s for s in payload.get("inventorySummaries") or [] if isinstance(s, dict))
                token = (body.get("pagination") or payload.get("pagination") or {}).get("nextToken")
                if not token:
                    return summaries
                params = {**params, "nextToken": token}

    @staticmethod
    def _fulfillable(summary: dict) -> int | None:
        value = (summary.get("inventoryDetails") or {}).get("fulfillableQuantity")
        try:
            return max(0, int(value)) if value is not None else None
        except (TypeError, ValueError):
            return None

    async def collect_products(self):
        listings: dict[str, ListingRecord] = {}
        for summary in await self._inventory_summaries():
            sku = summary.get("sellerSku")
            if sku and sku not in listings:
                listings[sku] = ListingRecord(platform_sku=sku, title=summary.get("productName") or "",
                                              platform_item_id=summary.get("asin") or "", currency=self.shop.currency,
                                              platform_stock=self._fulfillable(summary))
        return list(listings.values())

    async def collect_inventory(self):
        stock: dict[str, StockRecord] = {}
        for summary in await self._inventory_summaries():
            sku, quantity = summary.get("sellerSku"), self._fulfillable(summary)
            if not sku or quantity is None:
                logger.info("FBA summary without sellerSku or fulfillable quantity skipped: %s", summary)
                continue
            if sku in stock:  # one SKU in several conditions: Amazon sells them all
                stock[sku].quantity += quantity
            else:
                stock[sku] = StockRecord(platform_sku=sku, quantity=quantity,
                                         platform_item_id=summary.get("asin") or "")
        return list(stock.values())

    async def test_connection(self) -> str:
        marketplace = self.marketplace_id
        since = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        async with self._client() as client:
            await self._get(client, ORDERS_PATH, {"MarketplaceIds": marketplace, "CreatedAfter": amazon_time(since),
                                                  "MaxResultsPerPage": 1})
        return MARKETPLACES.get(marketplace, ("", f"Amazon {marketplace}"))[1]
