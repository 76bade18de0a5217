"""The running demo's marketplaces: every demo shop of a platform with a contract server gets a
local server on its own port, with credentials that match, and a book of orders that keeps
growing, so the demo really collects on its beat schedule."""
import datetime as dt
import json

from django.conf import settings
from django.db import transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from apps.platforms.models import Shop
from apps.platforms.schedules import schedule_name, shop_schedules_ensure

from .amazon import AmazonHandler
from .core import OrderBook, SandboxState, serve
from .ebay import EbayHandler
from .shopee import ShopeeHandler
from .shopify import ShopifyHandler
from .woocommerce import WooCommerceHandler

HANDLERS = {
    "shopify": ShopifyHandler,
    "amazon": AmazonHandler,
    "ebay": EbayHandler,
    "woocommerce": WooCommerceHandler,
    "shopee": ShopeeHandler,
}
DEMO_ORDERS_EVERY_MINUTES = 2


def demo_credentials(shop: Shop) -> dict:
    """Credentials a demo shop and its sandbox server share (nothing secret: local demo only)."""
    code = shop.code
    return {
        "shopify": lambda: {"access_token": f"shpat_demo_{code}"},
        "amazon": lambda: {"refresh_token": f"Atzr|demo-{code}", "client_id": "amzn1.application-oa2-client.demo",
                           "client_secret": f"demo-secret-{code}", "marketplace_id": _amazon_marketplace(shop)},
        "ebay": lambda: {"access_token": f"v^1.1#i^1#demo-{code}", "refresh_token": f"v^1.1#r^1#demo-{code}",
                         "client_id": "Demo-ERP-PRD", "client_secret": f"PRD-demo-{code}"},
        "woocommerce": lambda: {"consumer_key": f"ck_demo_{code}", "consumer_secret": f"cs_demo_{code}"},
        "shopee": lambda: {"partner_id": 2000001, "partner_key": f"demo-partner-key-{code}",
                           "shop_id": 880000 + shop.pk, "access_token": f"demo-access-{code}",
                           "refresh_token": f"demo-refresh-{code}"},
    }[shop.platform.code]()


def _amazon_marketplace(shop: Shop) -> str:
    from apps.platforms.connectors.amazon import MARKETPLACES

    by_country = {country: mid for mid, (country, _) in MARKETPLACES.items()}
    return by_country.get(shop.country, "ATVPDKIKX0DER")


def demo_shops() -> list[Shop]:
    return list(
        Shop.objects.filter(platform__code__in=HANDLERS, is_active=True).select_related("platform").order_by("pk")
    )


def demo_port(index: int) -> int:
    return settings.SANDBOX_PORT_BASE + index


@transaction.atomic
def demo_shops_point_at_sandbox() -> list[tuple[Shop, int]]:
    """Points each demo shop at its local server (idempotent) and makes orders collect often."""
    pairs = []
    interval, _ = IntervalSchedule.objects.get_or_create(every=DEMO_ORDERS_EVERY_MINUTES,
                                                         period=IntervalSchedule.MINUTES)
    for index, shop in enumerate(demo_shops()):
        port = demo_port(index)
        url = f"http://127.0.0.1:{port}"
        if shop.api_base_url != url or not shop.credentials:
            shop.api_base_url, shop.credentials = url, demo_credentials(shop)
            shop.auth_status = Shop.AuthStatus.OK
            shop.save(update_fields=["api_base_url", "credentials", "auth_status", "updated_at"])
        shop_schedules_ensure(shop=shop)
        task = PeriodicTask.objects.get(name=schedule_name(shop, "orders"))
        if task.interval_id != interval.pk or not task.enabled:
            task.interval, task.enabled = interval, True
            task.save()  # save(), not update(): beat reloads its schedule on the change signal
        pairs.append((shop, port))
    return pairs


def demo_first_collection(shops: list[Shop]) -> list:
    """Queues one run of every kind per demo shop, so data flows before the first beat tick."""
    from apps.platforms.collection import collection_run_start
    from apps.platforms.models import CollectionRun

    return [collection_run_start(shop=shop, kind=kind)[0] for shop in shops for kind in CollectionRun.Kind.values]


def demo_state(shop: Shop) -> SandboxState:
    skus = list(shop.listings.values_list("platform_sku", flat=True).order_by("platform_sku")[:200])
    now = dt.datetime.now(dt.UTC)
    book = OrderBook(seed=shop.pk, currency=shop.currency_id, start=now - dt.timedelta(days=1), per_hour=12,
                     countries=[shop.country] if shop.country else None, skus=skus or None)
    credentials = demo_credentials(shop)
    return SandboxState(book=book, credentials=json.loads(json.dumps(credentials)), grow_with_clock=True,
                        stock={sku: 50 + (n * 37) % 400 for n, sku in enumerate(skus)},
                        extra={"name": shop.name, "region": shop.country,
                               "marketplace_id": credentials.get("marketplace_id", "")})


def start_demo_servers(pairs: list[tuple[Shop, int]]) -> list:
    servers = []
    for shop, port in pairs:
        server, _ = serve(HANDLERS[shop.platform.code], demo_state(shop), port=port)
        servers.append((shop, server))
    return servers
