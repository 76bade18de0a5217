#!/usr/bin/env python
"""Benchmark: N orders collected from the local Shopify-contract server into the database
configured by DATABASE_URL (use PostgreSQL), end to end: HTTP pages, cleaning, upsert with
customers, listings, finance records, stock effects and rollups. Rate limiting is off.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/erp_bench .venv/bin/python bench/collect.py --orders 100000

Prints orders/s for the first pull and for a second pull of the same data (nothing changes), with
the CPU time per order of each process (the collector, the sandbox server, and all PostgreSQL
processes when it runs on this machine) and the load average: on a shared machine, wall figures move with
the load; CPU per order is the figure to compare. `--profile PREFIX` also writes a cProfile of each pull (slower; not the figure).
Target (issue 4): >= 5,000 orders/s end to end on PostgreSQL.
"""
import argparse
import cProfile
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


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process on this machine (Linux /proc), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float | None:
    """CPU seconds of every PostgreSQL process on this machine, with the backends that have exited
    (their time is added to the postmaster's children time when it reaps them); None if there are none.
    The collector stores pages on several connections, so no single backend holds the figure."""
    total, found = 0.0, False
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, rest = stat.read_text().rsplit(")", 1)
        except OSError:
            continue
        if not head.endswith("(postgres"):
            continue
        fields = rest.split()
        total += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
        found = True
    return total / os.sysconf("SC_CLK_TCK") if found else None


def serve_shopify(orders: int, prerender: bool, port_queue) -> None:
    """Runs in a child process so the server does not share the collector's GIL. With `prerender`,
    every order's JSON is rendered before the clock starts: the sandbox stands in for Shopify,
    whose rendering does not run on our machine."""
    from apps.platforms.sandbox.core import OrderBook, SandboxState, serve
    from apps.platforms.sandbox.shopify import ShopifyHandler, order_json

    book = OrderBook(seed=11, currency="USD", start=START)
    book.add(orders, spacing=dt.timedelta(minutes=2))
    if prerender:
        for order in book.orders:
            order_json(order, book.seed)
    server, url = serve(ShopifyHandler, SandboxState(book=book, credentials={"access_token": TOKEN}))
    port_queue.put(url)
    while True:
        time.sleep(3600)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--profile", metavar="PREFIX",
                        help="also write a cProfile of each pull of the collector to PREFIX-1.prof, PREFIX-2.prof "
                             "(profiling slows the pull: its figure is not the benchmark's)")
    parser.add_argument("--render-in-pull", action="store_true",
                        help="let the sandbox render each order's JSON during the first pull (by default it is "
                             "rendered before the clock starts, as Shopify's servers would have it ready)")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from apps.finance.models import Currency, ExchangeRate, FinancialRecord
    from apps.inventory.models import InventoryItem, StockMovement, Warehouse
    from apps.platforms.collection import collection_run_execute
    from apps.platforms.models import CollectionRun, Listing, Platform, Shop
    from apps.sales.models import Customer, Order, OrderLine, SalesDaily, SkuSalesDaily

    engine = settings.DATABASES["default"]["ENGINE"]
    print(f"database: {engine.rsplit('.', 1)[-1]} {settings.DATABASES['default'].get('NAME')}; sandbox orders "
          + ("rendered during the first pull" if args.render_in_pull else "rendered before the clock starts"))
    call_command("migrate", verbosity=0)

    queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve_shopify, args=(args.orders, not args.render_in_pull, queue),
                                     daemon=True)
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
    if connection.vendor == "postgresql":
        # What autovacuum would have done since the last run (it may be off on a bench server): old
        # dead rows cleared, planner statistics current. Done before this run's delete, so the
        # statistics describe a table that has held orders, as a production one has; analysing an
        # emptied table instead leaves plans (the foreign-key checks' among them) fit for 0 rows.
        with connection.cursor() as cursor:
            for model in (Order, OrderLine, Customer, FinancialRecord, Listing, SalesDaily, SkuSalesDaily,
                          StockMovement, InventoryItem, CollectionRun):
                cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    # Each run starts from an empty shop: its orders, and what the last run created with them
    # (buyers, listings, the day rollups), which would otherwise make this "first" pull find them.
    Order.objects.filter(shop=shop).delete()
    for model in (Customer, Listing, SalesDaily, SkuSalesDaily, CollectionRun):
        model.objects.filter(shop=shop).delete()
    shop.api_base_url, shop.credentials = base_url, {"access_token": TOKEN}
    shop.save()
    end = START + dt.timedelta(minutes=2 * args.orders, days=3)  # shipped orders move on up to a day later

    for number, label in enumerate(("first pull (all new)", "second pull (same data)"), start=1):
        run = CollectionRun.objects.create(shop=shop, kind="orders", status="queued", window_start=START,
                                           window_end=end)
        profiler = cProfile.Profile() if args.profile else None
        server_began = cpu_seconds(server.pid)
        database_began = postgres_cpu_seconds() if connection.vendor == "postgresql" else None
        cpu_began = time.process_time()
        began = time.perf_counter()
        if profiler:
            profiler.enable()
        run = collection_run_execute(run_id=run.pk)
        if profiler:
            profiler.disable()
        elapsed = time.perf_counter() - began
        cpu = time.process_time() - cpu_began
        server_cpu = cpu_seconds(server.pid)
        database_cpu = postgres_cpu_seconds() if database_began is not None else None
        if profiler:
            profiler.dump_stats(f"{args.profile}-{number}.prof")
        assert run.status == "succeeded", run.error
        per_order = 1e6 / max(run.records_seen, 1)
        processes = [f"collector {cpu * per_order:.0f}"]
        if server_began is not None and server_cpu is not None:
            processes.append(f"sandbox {(server_cpu - server_began) * per_order:.0f}")
        if database_began is not None and database_cpu is not None:
            processes.append(f"PostgreSQL {(database_cpu - database_began) * per_order:.0f}")
        print(f"{label}: {run.records_seen} orders in {run.pages} pages, created {run.records_created}, "
              f"updated {run.records_updated}, {elapsed:.1f} s -> {run.records_seen / elapsed:,.0f} orders/s\n"
              f"    CPU us/order: {', '.join(processes)} (collector CPU {cpu:.1f} s; "
              f"load average {os.getloadavg()[0]:.2f})")
    stored = Order.objects.filter(shop=shop).count()
    print(f"orders stored for the shop: {stored} (expected {args.orders})")
    server.terminate()


if __name__ == "__main__":
    main()
