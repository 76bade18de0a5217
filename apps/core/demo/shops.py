"""Twelve shops on eight platforms, and their listings (shop SKU → master SKU, a few unpaired)."""
import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import accumulate
from zoneinfo import ZoneInfo

from apps.inventory.models import Warehouse
from apps.platforms.models import Listing, Platform, Shop

from .catalogue import ProductSpec
from .context import DemoContext, months_before
from .reference import CNY_LEVEL, QUANTUM
from .writer import FastTable


@dataclass(frozen=True)
class ShopSpec:
    code: str
    name: str
    platform: str
    marketplace: str
    country: str
    currency: str
    timezone: str
    warehouse: str
    fee_rate: str
    weight: float  # share of orders once open
    opens_after_months: int
    sku_prefix: str
    countries: tuple[tuple[str, int], ...]
    salesperson: int
    listing_share: float
    tax_rate: str = "0"
    free_shipping_over: float | None = None  # None: shipping is never charged
    shipping_fee: float = 0.0


SHOPS = [
    ShopSpec("amz-us", "Voltix 美国站", "amazon", "Amazon.com", "US", "USD", "America/Los_Angeles", "FBA-US",
             "0.1500", 30, 0, "AUS", (("US", 1),), 0, 0.8),
    ShopSpec("amz-de", "Homelia 德国站", "amazon", "Amazon.de", "DE", "EUR", "Europe/Berlin", "FBA-DE",
             "0.1500", 14, 0, "ADE", (("DE", 88), ("AT", 12)), 1, 0.55),
    ShopSpec("amz-uk", "Urbanfit 英国站", "amazon", "Amazon.co.uk", "GB", "GBP", "Europe/London", "CN-SZ01",
             "0.1500", 9, 0, "AUK", (("GB", 1),), 1, 0.45, free_shipping_over=25, shipping_fee=2.99),
    ShopSpec("amz-jp", "Trekora 日本站", "amazon", "Amazon.co.jp", "JP", "JPY", "Asia/Tokyo", "CN-SZ01",
             "0.1000", 7, 0, "AJP", (("JP", 1),), 2, 0.3, free_shipping_over=3500, shipping_fee=450),
    ShopSpec("ebay-us", "voltix_direct", "ebay", "eBay.com", "US", "USD", "America/New_York", "US-LA01",
             "0.1325", 8, 0, "EUS", (("US", 92), ("CA", 8)), 5, 0.5, free_shipping_over=35, shipping_fee=4.99),
    ShopSpec("ebay-au", "homelia_au", "ebay", "eBay.com.au", "AU", "AUD", "Australia/Sydney", "CN-SZ01",
             "0.1300", 4, 2, "EAU", (("AU", 90), ("NZ", 10)), 2, 0.3, free_shipping_over=50, shipping_fee=6.95),
    ShopSpec("shopify-us", "Pawlio 品牌独立站", "shopify", "pawlio.com", "US", "USD", "America/Chicago", "US-LA01",
             "0.0290", 9, 0, "SHP", (("US", 85), ("CA", 15)), 3, 0.6, tax_rate="0.0725", free_shipping_over=49,
             shipping_fee=5.99),
    ShopSpec("woo-eu", "Lumora 欧洲独立站", "woocommerce", "lumora.eu", "DE", "EUR", "Europe/Berlin", "DE-FRA01",
             "0.0250", 5, 0, "WEU", (("DE", 40), ("FR", 25), ("IT", 15), ("ES", 12), ("NL", 8)), 3, 0.4,
             free_shipping_over=39, shipping_fee=4.90),
    ShopSpec("shopee-sg", "Kiddora 新加坡店", "shopee", "Shopee.sg", "SG", "SGD", "Asia/Singapore", "CN-SZ01",
             "0.1200", 5, 1, "SSG", (("SG", 1),), 2, 0.35, free_shipping_over=30, shipping_fee=1.99),
    ShopSpec("tiktok-us", "Urbanfit TikTok 美国店", "tiktok", "TikTok Shop US", "US", "USD", "America/Los_Angeles",
             "US-LA01", "0.0800", 8, 6, "TUS", (("US", 1),), 4, 0.3),
    ShopSpec("aliexpress", "Drivona 速卖通店", "aliexpress", "AliExpress 全球站", "CN", "USD", "Asia/Shanghai",
             "CN-SZ01",
             "0.0800", 7, 0, "AEX", (("US", 20), ("FR", 15), ("ES", 15), ("BR", 12), ("PL", 10), ("KR", 10), ("DE", 10),
                                     ("GB", 8)), 4, 0.45),
    ShopSpec("walmart-us", "Voltix 沃尔玛店", "walmart", "Walmart.com", "US", "USD", "America/Chicago", "US-LA01",
             "0.1500", 6, 3, "WUS", (("US", 1),), 5, 0.35, tax_rate="0.0725", free_shipping_over=35, shipping_fee=5.99),
]
UNPAIRED_LISTINGS = 16


@dataclass(slots=True)
class ListingInfo:
    listing_id: int
    product_id: int | None
    platform_sku: str
    title: str
    price: Decimal
    cost_cny: Decimal | None
    stock_parts: tuple[tuple[int, int], ...]


@dataclass
class ShopInfo:
    """Everything the order generator needs about one shop, held in memory."""

    spec: ShopSpec
    shop: Shop
    warehouse: Warehouse
    tz: ZoneInfo
    opens_on: dt.date
    quantum: Decimal
    fee_rate: Decimal
    tax_rate: Decimal
    listings: list[ListingInfo] = field(default_factory=list)
    listing_cum_weights: list[float] = field(default_factory=list)
    country_codes: list[str] = field(default_factory=list)
    country_cum_weights: list[float] = field(default_factory=list)
    shop_id: int = 0
    warehouse_id: int = 0
    free_shipping_over: Decimal | None = None
    shipping_fee: Decimal = Decimal("0.00")

    @property
    def fulfilled_by_platform(self) -> bool:
        return self.warehouse.kind == Warehouse.Kind.FBA


def _token(rng, length: int = 32) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(length))


def _credentials(rng, spec: ShopSpec, external_id: str) -> dict:
    """A credentials dict shaped like the platform's own, marked as demo data."""
    platform = spec.platform
    if platform == "amazon":
        secret = {"lwa_client_id": f"amzn1.application-oa2-client.{_token(rng)}",
                  "lwa_client_secret": _token(rng, 64), "refresh_token": f"Atzr|{_token(rng, 48)}",
                  "seller_id": external_id}
    elif platform == "ebay":
        secret = {"client_id": f"Demo-{_token(rng, 8)}-PRD", "client_secret": f"PRD-{_token(rng, 24)}",
                  "refresh_token": f"v^1.1#i^1#{_token(rng, 40)}"}
    elif platform == "shopify":
        secret = {"shop_domain": external_id, "access_token": f"shpat_{_token(rng)}"}
    elif platform == "woocommerce":
        secret = {"consumer_key": f"ck_{_token(rng, 40)}", "consumer_secret": f"cs_{_token(rng, 40)}"}
    elif platform == "shopee":
        secret = {"partner_id": rng.randint(2_000_000, 2_999_999), "partner_key": _token(rng, 64),
                  "shop_id": int(external_id), "access_token": _token(rng)}
    elif platform == "tiktok":
        secret = {"app_key": _token(rng, 14), "app_secret": _token(rng, 40), "access_token": f"ROW_{_token(rng, 40)}"}
    elif platform == "aliexpress":
        secret = {"app_key": str(rng.randint(30_000_000, 39_999_999)), "app_secret": _token(rng),
                  "session": f"50002{_token(rng, 40)}"}
    else:
        secret = {"client_id": f"{_token(rng, 8)}-{_token(rng, 4)}-{_token(rng, 4)}", "client_secret": _token(rng, 64)}
    return {"demo": True, **secret}


def _external_id(rng, spec: ShopSpec) -> str:
    if spec.platform == "amazon":
        return "A" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(13))
    if spec.platform == "shopify":
        return f"{spec.name.split()[0].lower()}-demo.myshopify.com"
    if spec.platform == "woocommerce":
        return f"https://shop.{spec.marketplace}"
    if spec.platform in ("shopee", "tiktok", "aliexpress", "walmart"):
        return str(rng.randint(100_000_000, 999_999_999))
    return spec.name


def create_shops(
    ctx: DemoContext, platforms: dict[str, Platform], warehouses: dict[str, Warehouse], salespeople
) -> list[ShopInfo]:
    rng = ctx.rng("shops")
    rows = []
    for spec in SHOPS:
        external_id = _external_id(rng, spec)
        rows.append(
            Shop(
                platform=platforms[spec.platform], name=spec.name, code=spec.code, external_id=external_id,
                marketplace=spec.marketplace, country=spec.country, currency_id=spec.currency,
                timezone=spec.timezone, credentials=_credentials(rng, spec, external_id),
                auth_status=Shop.AuthStatus.OK, salesperson=salespeople[spec.salesperson],
                default_warehouse=warehouses[spec.warehouse], platform_fee_rate=Decimal(spec.fee_rate),
            )
        )
    Shop.objects.bulk_create(rows)
    shops = []
    for spec, shop in zip(SHOPS, rows, strict=True):
        info = ShopInfo(
            spec=spec, shop=shop, warehouse=warehouses[spec.warehouse], tz=ZoneInfo(spec.timezone),
            opens_on=months_before(ctx.start, -spec.opens_after_months), quantum=QUANTUM[spec.currency],
            fee_rate=Decimal(spec.fee_rate), tax_rate=Decimal(spec.tax_rate),
        )
        info.shop_id, info.warehouse_id = shop.pk, info.warehouse.pk
        if spec.free_shipping_over is not None:
            info.free_shipping_over = Decimal(str(spec.free_shipping_over))
            info.shipping_fee = Decimal(str(spec.shipping_fee)).quantize(info.quantum).quantize(Decimal("0.01"))
        info.country_codes = [code for code, _ in spec.countries]
        info.country_cum_weights = list(accumulate(weight for _, weight in spec.countries))
        shops.append(info)
    return shops


def _price(cost_cny: Decimal, markup: float, currency: str) -> Decimal:
    """A shelf price in the shop's currency, rounded the way sellers price (19.99, ¥2,980)."""
    value = float(cost_cny) * markup / CNY_LEVEL[currency]
    if currency == "JPY":
        return Decimal(max(math.ceil(value / 100) * 100 - 20, 280)).quantize(Decimal("0.01"))
    return Decimal(max(math.ceil(value), 2)) - Decimal("0.01")


def _item_id(rng, platform: str) -> str:
    if platform == "amazon":
        return "B0" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(8))
    return str(rng.randint(10**11, 10**12 - 1))


def create_listings(ctx: DemoContext, shops: list[ShopInfo], products: list[ProductSpec]) -> None:
    """Lists each product on several shops at a shop SKU of its own; fills `shop.listings`."""
    rng = ctx.rng("listings")
    table = FastTable(Listing, batch_size=ctx.batch_size)
    rows: list[tuple[ShopInfo, ListingInfo, float]] = []

    def add(shop: ShopInfo, product_id, sku: str, title: str, price: Decimal) -> ListingInfo:
        listing_id = table.allocate_id()
        table.add({
            "id": listing_id, "shop_id": shop.shop_id, "platform_sku": sku,
            "platform_item_id": _item_id(rng, shop.spec.platform), "title": title, "product_id": product_id,
            "price": price, "currency_id": shop.spec.currency,
        })
        return ListingInfo(listing_id, product_id, sku, title, price, None, ())

    for spec in products:
        chosen = [shop for shop in shops if rng.random() < shop.spec.listing_share]
        if not chosen:
            chosen = [rng.choice(shops)]
        for shop in chosen:
            price = _price(spec.cost, rng.uniform(2.6, 4.2), shop.spec.currency)
            info = add(shop, spec.pk, f"{shop.spec.sku_prefix}-{spec.sku}", spec.name_en, price)
            info.cost_cny, info.stock_parts = spec.cost, spec.stock_parts()
            rows.append((shop, info, spec.popularity * rng.uniform(0.5, 1.5)))
    for number in range(1, UNPAIRED_LISTINGS + 1):
        # New items a shop started selling before anyone created their master SKU: the pairing queue.
        shop = shops[rng.randrange(len(shops))]
        price = _price(Decimal(rng.randint(15, 90)), 3.0, shop.spec.currency)
        info = add(shop, None, f"{shop.spec.sku_prefix}-NEW{number:03d}", f"New Arrival Item {number:03d}", price)
        rows.append((shop, info, 0.004))
    table.close()
    for shop, info, weight in rows:
        shop.listings.append(info)
        shop.listing_cum_weights.append((shop.listing_cum_weights[-1] if shop.listing_cum_weights else 0.0) + weight)
