"""WooCommerce REST API v3 (shared/contracts/woocommerce.md).

- Auth: HTTP Basic with the consumer key / secret (credentials `consumer_key`, `consumer_secret`).
  When the site's server drops the Authorization header, set credentials `auth_in_query: true`
  and they travel as ?consumer_key=&consumer_secret= (only sensible over HTTPS). There is no token
  to refresh: a 401 (`woocommerce_rest_cannot_view`, `woocommerce_rest_authentication_error`) is an
  AuthError at once.
- Orders: GET /wp-json/wc/v3/orders with modified_after / modified_before and dates_are_gmt=true,
  status=any, orderby=id&order=asc (a stable order while paging), per_page (never above 100; the
  platform answers 400 rest_invalid_param outside 1–100) and 1-based page. WordPress compares
  dates exclusively and in whole seconds, so [since, until) is sent as
  modified_after = floor(since) − 1 s and modified_before = floor(until); an order modified in the
  last fraction of a second before `until` is picked up by the next run's overlap. More pages exist
  while page < X-WP-TotalPages (or, without that header, a Link rel="next" or a full page).
  The checkpoint is {"page": next page number, "per_page", "total": X-WP-Total}.
- An order modified while a run pages leaves the window (its date_modified passes the fixed
  window end) and would make a later order slide unread into the pages already read: X-WP-Total is
  compared page by page (and with the checkpoint's on resume) and a page whose total fell by d is
  read again from the page holding the position d places back (base.ResultSetWatch). Sorting by id
  rather than modified is deliberate: an order modified but still inside the window (a skewed
  clock) keeps its place, where orderby=modified would move it to the end and shift the others
  without changing the total.

Status mapping (the raw status is kept in platform_status):
  pending (awaiting payment), on-hold (awaiting confirmation), failed (payment failed; the
  customer may still pay), checkout-draft                → pending
  processing (paid, to be fulfilled)                     → paid
  completed (fulfilled)                                  → shipped
  cancelled, trash                                       → cancelled
  refunded                                               → refunded (refund = total when no refunds[] are listed)
  processing / completed with refunds[] (a partial refund: WooCommerce keeps the status)
                                                         → partially_refunded (or refunded when Σ ≥ total)
  shipped / delivered (common plugin statuses)           → shipped / delivered
  anything else                                          → CleaningError (quarantined, not guessed)

Money: total, total_tax, shipping_total, discount_total are strings in the order currency; line
`total` is the line after discounts, `price` (a number) its unit price. refunds[].total are
negative strings; refund = −Σ. Times: *_gmt fields are GMT without an offset and are read as UTC;
if date_created_gmt is missing, date_created is read in the shop's time zone.
Customers: customer_id 0 is a guest → identified by billing e-mail."""
import datetime as dt
import re
import zoneinfo
from decimal import Decimal

import httpx

from apps.sales.ingest import CustomerData, LineData, OrderData
from apps.sales.models import Order

from . import cleaning, register
from .base import DataCollector, ListingRecord, Page, ResultSetWatch, StockRecord
from .errors import AuthError, CleaningError, ConnectorError
from .http import PlatformClient

API_PREFIX = "/wp-json/wc/v3"
PAGE_SIZE = 100  # the platform's maximum per_page; tests monkeypatch it
MAX_PER_PAGE = 100
_NEXT_LINK = re.compile(r'<([^>]+)>;\s*rel="next"')

S = Order.Status
STATUS_MAP = {
    "pending": S.PENDING, "on-hold": S.PENDING, "failed": S.PENDING, "checkout-draft": S.PENDING,
    "processing": S.PAID, "completed": S.SHIPPED, "shipped": S.SHIPPED, "delivered": S.DELIVERED,
    "cancelled": S.CANCELLED, "trash": S.CANCELLED, "refunded": S.REFUNDED,
}
_PAYMENT_RECEIVED = {S.PAID, S.SHIPPED, S.DELIVERED}


def wc_time(moment: dt.datetime) -> str:
    """GMT, whole seconds, no offset (sent with dates_are_gmt=true)."""
    return moment.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0).isoformat()


def window_params(since: dt.datetime, until: dt.datetime) -> dict:
    return {"modified_after": wc_time(since.replace(microsecond=0) - dt.timedelta(seconds=1)),
            "modified_before": wc_time(until), "dates_are_gmt": "true"}


def wp_error(response: httpx.Response) -> str | None:
    """WordPress's `{"code", "message", "data": {"status", "params"}}` as one readable line."""
    if response.status_code < 400:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or not body.get("code"):
        return None
    params = (body.get("data") or {}).get("params") or {}
    details = "；".join(f"{k}: {v}" for k, v in params.items()) if isinstance(params, dict) else ""
    return f"WooCommerce 错误 {body['code']}：{body.get('message', '')}" + (f"（{details}）" if details else "")


def _gmt(value, field: str, *, required: bool = True) -> dt.datetime | None:
    """A *_gmt field: no offset, meaning UTC."""
    if isinstance(value, str) and value and not re.search(r"(Z|[+-]\d\d:?\d\d)$", value):
        value = value + "+00:00"
    return cleaning.timestamp(value, field, required=required)


@register("woocommerce")
class WooCommerceCollector(DataCollector):
    def _client(self) -> PlatformClient:
        creds = self.shop.credentials
        key, secret = creds.get("consumer_key"), creds.get("consumer_secret")
        if not key or not secret:
            raise AuthError("店铺凭证缺少 consumer_key / consumer_secret。")
        base = re.sub(r"/(wp-json(/wc/v3)?)?/*$", "", self.shop.base_url.rstrip("/"))
        in_query = bool(creds.get("auth_in_query"))
        client = PlatformClient(base_url=base, budget=self.shop.request_budget, headers={"Accept": "application/json"},
                                auth=None if in_query else httpx.BasicAuth(key, secret))
        if in_query:
            client.client.params = {"consumer_key": key, "consumer_secret": secret}
        return client

    async def _pages(self, client: PlatformClient, resource: str, params: dict, page: int, *,
                     per_page: int | None = None, watch: ResultSetWatch | None = None):
        """(records, next page or None) for each page of a list endpoint, from `page` on. With a
        `watch`, a page whose X-WP-Total shows the set changed is not used; paging goes on from the
        page the watch points back to."""
        per_page = max(1, min(per_page or PAGE_SIZE, MAX_PER_PAGE))
        while True:
            try:
                response = await client.request("GET", f"{API_PREFIX}/{resource}",
                                                params={**params, "per_page": per_page, "page": page}, is_error=wp_error)
            except ConnectorError as exc:
                # Past the last page (the data shrank since the checkpoint) WordPress may answer 400
                # *_invalid_page_number: that is the end of the list, not a failure.
                if page > 1 and not isinstance(exc, AuthError) and "invalid_page_number" in str(exc):
                    again = watch.lost_track((page - 1) * per_page) if watch else None
                    if again is not None:
                        page = again // per_page + 1
                        continue
                    yield [], None
                    return
                raise
            records = response.json()
            if not isinstance(records, list):
                raise ConnectorError(f"WooCommerce {resource} 的响应不是列表：{response.text[:200]}")
            total = response.headers.get("X-WP-Total")
            if watch is not None and total is not None and total.isdigit():
                again = watch.reread_from((page - 1) * per_page, int(total))
                if again is not None:
                    page = again // per_page + 1
                    continue
            total_pages = response.headers.get("X-WP-TotalPages")
            if total_pages is not None and total_pages.isdigit():
                more = page < int(total_pages)
            else:
                more = bool(_NEXT_LINK.search(response.headers.get("Link") or "")) or len(records) >= per_page
            more = more and bool(records)
            yield records, page + 1 if more else None
            if not more:
                return
            page += 1

    async def collect_orders(self, since, until, checkpoint=None):
        checkpoint = checkpoint or {}
        page = int(checkpoint.get("page") or 1)
        # a resumed run keeps the page size its page numbers were counted in
        per_page = max(1, min(int(checkpoint.get("per_page") or PAGE_SIZE), MAX_PER_PAGE))
        watch = ResultSetWatch(total=checkpoint.get("total"))
        params = {**window_params(since, until), "status": "any", "orderby": "id", "order": "asc"}
        async with self._client() as client:
            async for records, following in self._pages(client, "orders", params, page, per_page=per_page, watch=watch):
                yield Page(records=records, next_checkpoint=None if following is None else
                           {"page": following, "per_page": per_page, "total": watch.total})

    def normalize_order(self, record: dict) -> OrderData:
        if not isinstance(record, dict) or not record.get("id"):
            raise CleaningError("订单缺少 id")
        raw_status = str(record.get("status") or "")
        status = STATUS_MAP.get(raw_status)
        if status is None:
            raise CleaningError(f"未知订单状态 {raw_status!r}")
        currency = str(record.get("currency") or "").upper()
        total = cleaning.money(record.get("total"), "total")
        refunded = sum((abs(cleaning.money(r.get("total"), "refunds.total")) for r in record.get("refunds") or []
                        if isinstance(r, dict)), Decimal("0.00"))
        if status == S.REFUNDED and not refunded:
            refunded = total
        if status in _PAYMENT_RECEIVED and refunded > 0:
            status = S.REFUNDED if refunded >= total else S.PARTIALLY_REFUNDED
        lines = []
        for item in record.get("line_items") or []:
            quantity = cleaning.quantity(item.get("quantity"), "line_items.quantity")
            line_total = cleaning.money(item.get("total"), "line_items.total")
            price = item.get("price")
            unit = (cleaning.money(price, "line_items.price") if price not in (None, "")
                    else (line_total / quantity).quantize(Decimal("0.01")))
            product = item.get("variation_id") or item.get("product_id")
            lines.append(LineData(
                platform_line_id=str(item.get("id") or ""),
                platform_sku=item.get("sku") or f"woo-product-{product or item.get('id')}",
                title=item.get("name") or "", quantity=quantity, unit_price=unit, line_total=line_total,
            ))
        if not lines:
            raise CleaningError("订单没有商品行")
        billing, shipping = record.get("billing") or {}, record.get("shipping") or {}
        if record.get("date_created_gmt"):
            ordered_at = _gmt(record.get("date_created_gmt"), "date_created_gmt")
        else:
            ordered_at = self._local(record.get("date_created"), "date_created")
        updated_at = _gmt(record.get("date_modified_gmt"), "date_modified_gmt", required=False)
        customer_id = record.get("customer_id")
        return OrderData(
            platform_order_id=str(record["id"]), order_number=f"#{record.get('number') or record['id']}"[:64],
            ordered_at=ordered_at, currency=currency, status=status, platform_status=raw_status[:64],
            buyer_country=cleaning.country(shipping.get("country") or billing.get("country")),
            items_amount=sum((line.line_total for line in lines), Decimal("0.00")),
            shipping_amount=cleaning.money(record.get("shipping_total"), "shipping_total", required=False),
            tax_amount=cleaning.money(record.get("total_tax"), "total_tax", required=False),
            discount_amount=cleaning.money(record.get("discount_total"), "discount_total", required=False),
            platform_fee=(total * self.shop.fee_rate).quantize(Decimal("0.01")),
            refund_amount=min(refunded, total), total_amount=total,
            paid_at=_gmt(record.get("date_paid_gmt"), "date_paid_gmt", required=False),
            shipped_at=_gmt(record.get("date_completed_gmt"), "date_completed_gmt", required=False),
            cancelled_at=updated_at if status == S.CANCELLED else None,
            platform_updated_at=updated_at,
            customer=CustomerData(
                platform_buyer_id=str(customer_id) if customer_id not in (None, "", 0, "0") else "",
                email=billing.get("email") or "",
                name=" ".join(filter(None, [billing.get("first_name"), billing.get("last_name")])),
                country=cleaning.country(billing.get("country")),
            ),
            lines=lines,
        )

    def _local(self, value, field: str) -> dt.datetime:
        """A site-local time without offset, read in the shop's time zone."""
        if isinstance(value, str) and value and not re.search(r"(Z|[+-]\d\d:?\d\d)$", value):
            try:
                zone = zoneinfo.ZoneInfo(self.shop.timezone or "UTC")
                parsed = dt.datetime.fromisoformat(value).replace(tzinfo=zone)
            except (ValueError, zoneinfo.ZoneInfoNotFoundError) as exc:
                raise CleaningError(f"{field} 不是有效时间：{value!r}") from exc
            return parsed.astimezone(dt.UTC)
        return cleaning.timestamp(value, field)

    async def _products(self) -> list[dict]:
        products = []
        async with self._client() as client:
            async for records, _ in self._pages(client, "products", {"status": "publish"}, 1):
                products.extend(records)
        return products

    async def collect_products(self):
        return [
            ListingRecord(platform_sku=product.get("sku") or f"woo-product-{product.get('id')}",
                          title=product.get("name") or "", platform_item_id=str(product.get("id") or ""),
                          price=cleaning.money(product.get("price"), "price", required=False),
                          currency=self.shop.currency, platform_stock=_stock(product))
            for product in await self._products()
        ]

    async def collect_inventory(self):
        return [
            StockRecord(platform_sku=product.get("sku") or f"woo-product-{product.get('id')}", quantity=_stock(product),
                        platform_item_id=str(product.get("id") or ""))
            for product in await self._products() if _stock(product) is not None
        ]

    async def test_connection(self) -> str:
        async with self._client() as client:
            response = await client.request("GET", f"{API_PREFIX}/orders", params={"per_page": 1}, is_error=wp_error)
        return f"WooCommerce 店铺（共 {response.headers.get('X-WP-Total', '?')} 个订单）"


def _stock(product: dict) -> int | None:
    value = product.get("stock_quantity")
    if value is None or product.get("manage_stock") is False:
        return None
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return None

