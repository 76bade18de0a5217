"""Reference data: currencies and daily rates, platforms, warehouses, suppliers."""
import datetime as dt
import math
from decimal import Decimal

from django.core.management.base import CommandError

from apps.finance.models import Currency, ExchangeRate
from apps.finance.selectors import RateTable
from apps.inventory.models import Supplier, Warehouse
from apps.platforms.models import Platform

from .context import DemoContext
from .writer import FastTable

# code, name, symbol, decimal places, CNY per unit (the level the daily walk reverts to).
CURRENCIES = [
    ("CNY", "人民币", "¥", 2, 1.0),
    ("USD", "美元", "$", 2, 7.18),
    ("EUR", "欧元", "€", 2, 7.82),
    ("GBP", "英镑", "£", 2, 9.15),
    ("JPY", "日元", "¥", 0, 0.0478),
    ("AUD", "澳大利亚元", "A$", 2, 4.72),
    ("CAD", "加拿大元", "C$", 2, 5.25),
    ("SGD", "新加坡元", "S$", 2, 5.36),
    ("HKD", "港币", "HK$", 2, 0.92),
]
CNY_LEVEL = {code: level for code, _, _, _, level in CURRENCIES}
QUANTUM = {code: Decimal(1).scaleb(-places) for code, _, _, places, _ in CURRENCIES}

PLATFORMS = [
    ("amazon", "Amazon 亚马逊", "https://sellercentral.amazon.com"),
    ("ebay", "eBay", "https://www.ebay.com"),
    ("shopify", "Shopify", "https://www.shopify.com"),
    ("woocommerce", "WooCommerce", "https://woocommerce.com"),
    ("shopee", "Shopee 虾皮", "https://shopee.sg"),
    ("tiktok", "TikTok Shop", "https://seller-us.tiktok.com"),
    ("aliexpress", "AliExpress 速卖通", "https://www.aliexpress.com"),
    ("walmart", "Walmart 沃尔玛", "https://seller.walmart.com"),
]

# code, name, kind, country, address
WAREHOUSES = [
    ("CN-SZ01", "深圳龙华自营仓", Warehouse.Kind.OWN, "CN", "广东省深圳市龙华区民治街道工业东路 18 号"),
    ("US-LA01", "美国洛杉矶海外仓", Warehouse.Kind.OVERSEAS, "US", "1200 S Milliken Ave, Ontario, CA 91761"),
    ("DE-FRA01", "德国法兰克福海外仓", Warehouse.Kind.OVERSEAS, "DE", "Cargo City Süd 570, 60549 Frankfurt"),
    ("FBA-US", "亚马逊美国 FBA 仓", Warehouse.Kind.FBA, "US", "Amazon ONT8, 24300 Nandina Ave, Moreno Valley, CA"),
    ("FBA-DE", "亚马逊德国 FBA 仓", Warehouse.Kind.FBA, "DE", "Amazon FRA3, Am Schloß Eichhof 1, Bad Hersfeld"),
]
HUB_WAREHOUSE = "CN-SZ01"

# code, name, contact, city phone prefix, lead time days, payment terms, categories served
SUPPLIERS = [
    ("SUP-001", "深圳市华强电子科技有限公司", "陈志强", "0755", 12, "月结30天", ["3C"]),
    ("SUP-002", "东莞市声韵音频有限公司", "黄丽娟", "0769", 15, "30%定金，70%发货前付清", ["3C"]),
    ("SUP-003", "义乌市佳家日用品有限公司", "楼建军", "0579", 10, "款到发货", ["HM"]),
    ("SUP-004", "广州市锦绣服饰有限公司", "林晓燕", "020", 18, "月结45天", ["AP"]),
    ("SUP-005", "宁波市远行户外用品有限公司", "王海波", "0574", 20, "30%定金，70%发货前付清", ["OD"]),
    ("SUP-006", "温州市萌宠用品有限公司", "郑小明", "0577", 14, "月结30天", ["PT"]),
    ("SUP-007", "汕头市美妍个护用品有限公司", "蔡佩琪", "0754", 12, "款到发货", ["BT"]),
    ("SUP-008", "汕头市澄海乐童玩具厂", "许志伟", "0754", 16, "月结30天", ["BB"]),
    ("SUP-009", "台州市驰安汽车用品有限公司", "潘国良", "0576", 15, "月结30天", ["AU"]),
    ("SUP-010", "深圳市优联数码配件厂", "刘振华", "0755", 8, "款到发货", ["3C"]),
]


def create_currencies(ctx: DemoContext) -> None:
    if ctx.base_currency not in CNY_LEVEL:
        raise CommandError(f"演示数据不支持本位币 {ctx.base_currency}，可选：{', '.join(CNY_LEVEL)}。")
    Currency.objects.bulk_create(
        [
            Currency(code=code, name=name, symbol=symbol, decimal_places=places)
            for code, name, symbol, places, _ in CURRENCIES
        ],
        ignore_conflicts=True,
    )


def _walk(rng, level: float, days: int) -> list[float]:
    """A mean-reverting random walk of log-rates around `level`, one value per day."""
    log_level = math.log(level)
    value = log_level + rng.gauss(0, 0.02)
    values = []
    for _ in range(days):
        value += 0.02 * (log_level - value) + rng.gauss(0, 0.0035)
        values.append(math.exp(value))
    return values


def create_exchange_rates(ctx: DemoContext) -> None:
    """A rate for every day of the range (and the allowed look-back before it) and every currency."""
    rng = ctx.rng("rates")
    first = ctx.start - dt.timedelta(days=7)
    count = (ctx.end - first).days + 1
    walks = {code: _walk(rng, level, count) for code, level in CNY_LEVEL.items() if code != "CNY"}
    walks["CNY"] = [1.0] * count
    base = walks[ctx.base_currency]
    # Rates already kept for a day win: the demo then converts with them.
    kept = set(
        ExchangeRate.objects.filter(base_currency_id=ctx.base_currency, rate_date__gte=first).values_list(
            "currency_id", "rate_date"
        )
    )
    table = FastTable(ExchangeRate, batch_size=ctx.batch_size)
    for code in CNY_LEVEL:
        if code == ctx.base_currency:
            continue
        for offset in range(count):
            day = first + dt.timedelta(days=offset)
            if (code, day) in kept:
                continue
            rate = Decimal(repr(walks[code][offset] / base[offset])).quantize(Decimal("0.00000001"))
            table.add({
                "id": table.allocate_id(), "currency_id": code, "base_currency_id": ctx.base_currency,
                "rate_date": day, "rate": rate, "source": "demo",
            })
    table.close()
    ctx.rates = RateTable(start=ctx.start, end=ctx.end)


def create_platforms() -> dict[str, Platform]:
    existing = {p.code: p for p in Platform.objects.filter(code__in=[code for code, _, _ in PLATFORMS])}
    missing = [Platform(code=code, name=name, website=site) for code, name, site in PLATFORMS if code not in existing]
    Platform.objects.bulk_create(missing)
    return {p.code: p for p in Platform.objects.filter(code__in=[code for code, _, _ in PLATFORMS])}


def create_warehouses() -> dict[str, Warehouse]:
    rows = [
        Warehouse(code=code, name=name, kind=kind, country=country, address=address)
        for code, name, kind, country, address in WAREHOUSES
    ]
    return {w.code: w for w in Warehouse.objects.bulk_create(rows)}


def create_suppliers(ctx: DemoContext) -> dict[str, Supplier]:
    """Suppliers keyed by the category code they serve (several may serve one category)."""
    rng = ctx.rng("suppliers")
    rows = []
    for code, name, contact, area, lead, terms, _ in SUPPLIERS:
        rows.append(
            Supplier(
                code=code, name=name, contact_name=contact, email=f"sales@{code.lower()}.example.com",
                phone=f"{area}-{rng.randint(2000_0000, 8999_9999)}", country="CN", currency_id="CNY",
                lead_time_days=lead, payment_terms=terms,
            )
        )
    return {s.code: s for s in Supplier.objects.bulk_create(rows)}


def suppliers_by_category() -> dict[str, list[str]]:
    served: dict[str, list[str]] = {}
    for code, *_, categories in SUPPLIERS:
        for category in categories:
            served.setdefault(category, []).append(code)
    return served
