#!/usr/bin/env python
"""Benchmark: N orders collected from the local Shopify-contract server into the database
configured by DATABASE_URL (use PostgreSQL), end to end: HTTP pages, cleaning, upsert with
customers, listings, finance records, stock effects and rollups. Rate limiting is off.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/erp_bench .venv/bin/python bench/collect.py --orders 100000

Prints orders/s for the first pull and for a second pull of the same data (nothing changes).
Target (issue 4): >= 5,000 orders/s end to end on PostgreSQL.
"""
import argparse
import datetime as dt
import multiprocessing
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings")
os.environ.setdefault("DEBUG", "1")
START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
TOKEN = "shpat_bench_token"


def serve_shopify(orders: int, port_queue) -> None:
    """Runs in a child process so the server does not share the collector's GIL."""
    from apps.platforms.sandbox.core import OrderBook, SandboxState, serve
    from apps.platforms.sandbox.shopify import ShopifyHandler

    book = OrderBook(seed=11, currency="USD", start=START)
    book.add(orders, spacing=dt.timedelta(minutes=2))
    server, url = serve(ShopifyHandler, SandboxState(book=book, credentials={"access_token": TOKEN}))
    port_queue.put(url)
    while True:
        time.sleep(3600)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=100_000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from apps.finance.models import Currency, ExchangeRate
    from apps.inventory.models import Warehouse
    from apps.platforms.collection import collection_run_execute
    from apps.platforms.models import CollectionRun, Platform, Shop
    from apps.sales.models import Order

    engine = settings.DATABASES["default"]["ENGINE"]
    print(f"database: {engine.rsplit('.', 1)[-1]} {settings.DATABASES['default'].get('NAME')}")
    call_command("migrate", verbosity=0)

    queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve_shopify, args=(args.orders, queue), daemon=True)
    server.start()
    base_url = queue.get(timeout=600)

    base, _ = Currency.objects.get_or_create(code=settings.BASE_CURRENCY, defaults={"name": "base"})
    usd, _ = Currency.objects.get_or_create(code="USD", defaults={"name": "US Dollar"})
    days = args.orders * 2 // (60 * 24) + 3
    ExchangeRate.objects.bulk_create(
        [ExchangeRate(currency=usd, base_currency=base, rate_date=START.date() + dt.timedelta(days=d), rate=Decimal("7.1"))
         for d in range(-3, days)],
        ignore_conflicts=True,
    )
    platform, _ = Platform.objects.get_or_create(code="shopify", defaults={"name": "Shopify"})
    warehouse, _ = Warehouse.objects.get_or_create(code="BENCH-WH", defaults={"name": "bench", "kind": "own",
                                                                              "country": "CN"})
    shop, _ = Shop.objects.get_or_create(code="bench-shopify", defaults={
        "platform": platform, "name": "Bench Shopify", "country": "US", "currency": usd, "default_warehouse": warehouse,
    })
    Order.objects.filter(shop=shop).delete()
    CollectionRun.objects.filter(shop=shop).delete()
    shop.api_base_url, shop.credentials = base_url, {"access_token": TOKEN}
    shop.save()
    end = START + dt.timedelta(minutes=2 * args.orders, days=3)  # shipped orders move on up to a day later

    for label in ("first pull (all new)", "second pull (same data)"):
        run = CollectionRun.objects.create(shop=shop, kind="orders", status="queued", window_start=START,
                                           window_end=end)
        began = time.perf_counter()
        run = collection_run_execute(run_id=run.pk)
        elapsed = time.perf_counter() - began
        assert run.status == "succeeded", run.error
        print(f"{label}: {run.records_seen} orders in {run.pages} pages, created {run.records_created}, "
              f"updated {run.records_updated}, {elapsed:.1f} s -> {run.records_seen / elapsed:,.0f} orders/s")
    stored = Order.objects.filter(shop=shop).count()
    print(f"orders stored for the shop: {stored} (expected {args.orders})")
    server.terminate()


if __name__ == "__main__":
    main()
