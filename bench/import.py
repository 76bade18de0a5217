"""Benchmark: a 100,000-line Amazon "All Orders" report imported into PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/erp_dev .venv/bin/python bench/import.py

1. Generates the report (tab-separated, ~40,000 orders of 1–5 items, several marketplaces and
   currencies, FBA and merchant-fulfilled, sorted by purchase date as the BY_ORDER_DATE report is)
   into a temporary file.
2. Creates what it needs: currencies, daily rates, an Amazon platform, a fresh shop (so every order
   is new), 2,000 SKUs of which 500 are master products with stock in the shop's warehouse.
3. Imports it through the import runner (the `imports/` job) and prints lines/s and peak memory;
   then imports it again (every order unchanged).
4. Imports the same rows through django-import-export's default ModelResource import (one row
   at a time, the Admin path) into another fresh shop and prints the ratio.

Targets: ≥ 20,000 lines/s, ratio ≥ 20×, peak memory < 300 MB.
Options: --lines N, --baseline-lines N (default: all; 0 skips the baseline and the ratio), --profile (cProfile of our import),
--trace-memory (tracemalloc peak of our import; slows it), --keep (leave the data behind).
"""
import argparse
import cProfile
import csv
import datetime as dt
import os
import pstats
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("SHOP_CREDENTIALS_KEYS", "q0y3bNTrW2q4nCmXo4gP2iWjS9bnhEfbdxV4pq4Bk2Q=")
os.environ.setdefault("LOG_LEVEL", "WARNING")

HEADER = [
    "amazon-order-id", "merchant-order-id", "purchase-date", "last-updated-date", "order-status",
    "fulfillment-channel", "sales-channel", "order-channel", "url", "ship-service-level", "product-name", "sku",
    "asin", "item-status", "quantity", "currency", "item-price", "item-tax", "shipping-price", "shipping-tax",
    "gift-wrap-price", "gift-wrap-tax", "item-promotion-discount", "ship-promotion-discount", "ship-city",
    "ship-state", "ship-postal-code", "ship-country", "promotion-ids", "is-business-order", "purchase-order-number",
    "price-designation",
]
MARKETPLACES = [  # (sales channel, currency, country, weight)
    ("Amazon.de", "EUR", "DE", 35), ("Amazon.fr", "EUR", "FR", 15), ("Amazon.it", "EUR", "IT", 12),
    ("Amazon.es", "EUR", "ES", 10), ("Amazon.co.uk", "GBP", "GB", 20), ("Amazon.se", "SEK", "SE", 4),
    ("Amazon.pl", "PLN", "PL", 4),
]
RATES = {"EUR": "7.8100", "GBP": "9.1200", "SEK": "0.6850", "PLN": "1.8100", "USD": "7.1500"}
STATUSES = [("Shipped", 75), ("Unshipped", 10), ("Pending", 5), ("Cancelled", 5), ("Shipped - Delivered to Buyer", 5)]
ITEMS_PER_ORDER = [(1, 30), (2, 25), (3, 20), (4, 15), (5, 10)]
SKUS = 2000
MAPPED_SKUS = 500
DAYS = 60
START = dt.datetime(2025, 5, 1, tzinfo=dt.UTC)


def pick(rng, weighted):
    return rng.choices([w[0] for w in weighted], weights=[w[-1] for w in weighted])[0]


def generate_report(path: Path, *, lines: int, seed: int = 7) -> int:
    """Writes `lines` item rows; returns the number of orders."""
    rng = random.Random(seed)
    prices = {n: Decimal(rng.randint(599, 8999)) / 100 for n in range(SKUS)}
    orders = 0
    written = 0
    seconds = DAYS * 86400
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(HEADER)
        expected_orders = lines / 2.5
        while written < lines:
            orders += 1
            channel, currency, country, _ = rng.choices(MARKETPLACES, weights=[m[3] for m in MARKETPLACES])[0]
            status = pick(rng, STATUSES)
            fba = rng.random() < 0.6
            purchased = START + dt.timedelta(seconds=int(seconds * min(orders / expected_orders, 1)))
            updated = purchased + dt.timedelta(hours=rng.randint(1, 72))
            order_id = f"{rng.randint(100, 999)}-{orders:07d}-{rng.randint(1000000, 9999999)}"
            items = min(pick(rng, ITEMS_PER_ORDER), lines - written)
            for sku_number in rng.sample(range(SKUS), items):
                quantity = 0 if status == "Cancelled" else rng.choice((1, 1, 1, 2, 3))
                price = prices[sku_number] * quantity
                tax = (price * Decimal("0.19")).quantize(Decimal("0.01"))
                promotion = -(price * Decimal("0.1")).quantize(Decimal("0.01")) if rng.random() < 0.1 else Decimal(0)
                writer.writerow([
                    order_id, "", purchased.isoformat(), updated.isoformat(), status,
                    "Amazon" if fba else "Merchant", channel, "", "", "Standard", f"Produkt {sku_number}",
                    f"SKU-{sku_number:05d}", f"B0{sku_number:08d}", "Cancelled" if status == "Cancelled" else "Shipped",
                    quantity, currency, "" if status == "Cancelled" else price, "" if status == "Cancelled" else tax,
                    "0.00", "0.00", "", "", promotion or "", "", "Berlin", "", f"{rng.randint(1000, 99999):05d}",
                    country, "", "false", "", "",
                ])
                written += 1
    return orders


def setup_shop(code: str):
    from apps.finance.models import Currency, ExchangeRate
    from apps.inventory import services as stock
    from apps.inventory.models import Product, Warehouse
    from apps.platforms.models import Platform, Shop
    from django.conf import settings

    Currency.objects.get_or_create(code=settings.BASE_CURRENCY, defaults={"name": "人民币"})
    for code_, rate in RATES.items():
        Currency.objects.get_or_create(code=code_, defaults={"name": code_})
        ExchangeRate.objects.bulk_create(
            [
                ExchangeRate(currency_id=code_, base_currency_id=settings.BASE_CURRENCY, rate=Decimal(rate),
                             rate_date=(START - dt.timedelta(days=5)).date() + dt.timedelta(days=d), source="bench")
                for d in range(DAYS + 10)
            ],
            ignore_conflicts=True,
        )
    platform, _ = Platform.objects.get_or_create(code="amazon", defaults={"name": "Amazon"})
    warehouse, _ = Warehouse.objects.get_or_create(code="BENCH-CN", defaults={"name": "Bench 仓", "kind": "own",
                                                                              "country": "CN"})
    existing = set(Product.objects.filter(sku__startswith="SKU-").values_list("sku", flat=True))
    Product.objects.bulk_create(
        [Product(sku=f"SKU-{n:05d}", name=f"商品 {n}", cost_price=Decimal("12.00"), cost_currency_id="CNY")
         for n in range(MAPPED_SKUS) if f"SKU-{n:05d}" not in existing]
    )
    for product in Product.objects.filter(sku__startswith="SKU-", stock_items__isnull=True).distinct():
        stock.stock_adjustment_create(product=product, warehouse=warehouse, quantity_change=100000, reason="opening")
    return Shop.objects.create(platform=platform, name=code, code=code, country="DE", currency_id="EUR",
                               default_warehouse=warehouse, platform_fee_rate=Decimal("0.15"))


def run_job(path: Path, shop, *, dry_run=False):
    from django.core.files import File

    from apps.platforms.imports import import_job_run
    from apps.platforms.models import ImportJob

    with path.open("rb") as handle:
        job = ImportJob.objects.create(kind=ImportJob.Kind.AMAZON_ORDERS, file=File(handle, name="all-orders.txt"),
                                       original_filename="all-orders.txt", shop=shop, dry_run=dry_run)
    started = time.perf_counter()
    job = import_job_run(job_id=job.pk)
    elapsed = time.perf_counter() - started
    job.file.delete(save=False)
    return job, elapsed


def baseline(path: Path, shop, *, lines: int) -> tuple[int, float]:
    """The same rows through django-import-export's default ModelResource (row by row)."""
    import tablib
    from import_export import fields, resources, widgets

    from apps.finance.models import Currency
    from apps.platforms.models import Shop
    from apps.sales.models import Order

    class AmazonReportOrderResource(resources.ModelResource):
        shop = fields.Field(attribute="shop", column_name="shop", widget=widgets.ForeignKeyWidget(Shop, "code"))
        platform_order_id = fields.Field(attribute="platform_order_id", column_name="amazon-order-id")
        ordered_at = fields.Field(attribute="ordered_at", column_name="purchase-date",
                                  widget=widgets.DateTimeWidget("%Y-%m-%dT%H:%M:%S%z"))
        platform_status = fields.Field(attribute="platform_status", column_name="order-status")
        currency = fields.Field(attribute="currency", column_name="currency",
                                widget=widgets.ForeignKeyWidget(Currency, "code"))
        total_amount = fields.Field(attribute="total_amount", column_name="item-price", widget=widgets.DecimalWidget())
        buyer_country = fields.Field(attribute="buyer_country", column_name="ship-country")
        exchange_rate = fields.Field(attribute="exchange_rate", column_name="exchange-rate",
                                     widget=widgets.DecimalWidget())

        class Meta:
            model = Order
            import_id_fields = ("shop", "platform_order_id")
            fields = ("shop", "platform_order_id", "ordered_at", "platform_status", "currency", "total_amount",
                      "buyer_country", "exchange_rate")

    with path.open(encoding="utf-8") as handle:
        reader = csv.reader(handle, delimiter="\t")
        header = next(reader)
        rows = []
        for values in reader:
            if len(rows) >= lines:
                break
            row = dict(zip(header, values))
            rows.append([shop.code, row["amazon-order-id"], row["purchase-date"], row["order-status"], row["currency"],
                         row["item-price"] or "0", row["ship-country"], RATES[row["currency"]]])
    dataset = tablib.Dataset(*rows, headers=["shop", "amazon-order-id", "purchase-date", "order-status", "currency",
                                             "item-price", "ship-country", "exchange-rate"])
    started = time.perf_counter()
    result = AmazonReportOrderResource().import_data(dataset, dry_run=False, raise_errors=True, use_transactions=True)
    elapsed = time.perf_counter() - started
    assert not result.has_errors() and not result.has_validation_errors()
    return len(rows), elapsed


def what_if_bulk_lock_items() -> None:
    """What `inventory.services._lock_items` would cost creating the missing stock rows in one
    INSERT … ON CONFLICT DO NOTHING and locking them in one SELECT … FOR UPDATE (instead of one
    get_or_create round trip per (product, warehouse) pair). Bench-only: measures a proposal."""
    from django.db.models import Q

    from apps.inventory import services
    from apps.inventory.models import InventoryItem

    def lock_items(pairs):
        wanted = sorted(set(pairs))
        InventoryItem.objects.bulk_create(
            [InventoryItem(product_id=p, warehouse_id=w) for p, w in wanted], ignore_conflicts=True
        )
        by_warehouse: dict[int, list[int]] = {}
        for product_id, warehouse_id in wanted:
            by_warehouse.setdefault(warehouse_id, []).append(product_id)
        match = Q()
        for warehouse_id, product_ids in by_warehouse.items():
            match |= Q(warehouse_id=warehouse_id, product_id__in=product_ids)
        items = InventoryItem.objects.select_for_update().filter(match).order_by("pk")
        return {(item.product_id, item.warehouse_id): item for item in items}

    services._lock_items = lock_items


BREAKDOWN: dict[str, float] = {}


def time_parts() -> None:
    """Wall time per part of the import, without a profiler's distortion: wraps the functions
    orders_upsert calls (by name, where they exist) and the call itself."""
    import functools

    from apps.platforms.imports import orders as import_orders
    from apps.sales.ingest import upsert

    def wrap(module, name, label):
        original = getattr(module, name, None)
        if original is None:
            return

        @functools.wraps(original)
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                BREAKDOWN[label] = BREAKDOWN.get(label, 0.0) + time.perf_counter() - started

        setattr(module, name, timed)

    wrap(import_orders, "orders_upsert", "orders_upsert (all of it)")
    for name in ("_resolve_customers", "_resolve_listings", "finance_records_write", "order_finance_records_replace",
                 "lines_post_stock", "order_lines_post_stock", "sales_rollups_rebuild", "order_data_problem"):
        wrap(upsert, name, f"  orders_upsert → {name}")
    from apps.inventory import services as inventory_services
    from apps.sales.ingest import effects

    wrap(effects, "stock_outbound_bulk", "    lines_post_stock → stock_outbound_bulk")
    wrap(inventory_services, "_lock_items", "      stock_outbound_bulk → _lock_items (get_or_create per stock row)")
    writer = getattr(upsert, "row_writer", None)
    if writer is not None:
        def timed_writer(*args, **kwargs):
            instance = writer(*args, **kwargs)
            for method in ("insert", "update"):
                if hasattr(instance, method):
                    wrap(instance, method, f"  orders_upsert → row_writer().{method} (COPY/UPDATE)")
            return instance
        upsert.row_writer = timed_writer


def cleanup(shop) -> None:
    from apps.finance.models import FinancialRecord
    from apps.platforms.models import ImportJob, Listing
    from apps.sales.models import Customer, Order, OrderLine, SalesDaily, SkuSalesDaily

    SalesDaily.objects.filter(shop=shop).delete()
    SkuSalesDaily.objects.filter(shop=shop).delete()
    FinancialRecord.objects.filter(shop=shop)._raw_delete(FinancialRecord.objects.db)
    OrderLine.objects.filter(order__shop=shop)._raw_delete(OrderLine.objects.db)
    Order.objects.filter(shop=shop)._raw_delete(Order.objects.db)
    Customer.objects.filter(shop=shop).delete()
    Listing.objects.filter(shop=shop).delete()
    ImportJob.objects.filter(shop=shop).delete()
    shop.delete()


class CpuClock:
    """CPU seconds of this process (user + sys) and of its PostgreSQL backend (read from
    /proc/<backend pid>/stat when the server runs on this machine; None otherwise)."""

    def __init__(self):
        from django.db import connection

        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.backend_pid = cursor.fetchone()[0]
        self.ticks = os.sysconf("SC_CLK_TCK")

    def _backend(self) -> float | None:
        try:
            fields = Path(f"/proc/{self.backend_pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / self.ticks  # utime + stime

    def read(self) -> tuple[float, float | None]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime, self._backend()

    @staticmethod
    def spent(before, after) -> str:
        own = after[0] - before[0]
        backend = f"{after[1] - before[1]:.2f} s" if None not in (before[1], after[1]) else "n/a"
        return f"CPU: process {own:.2f} s, PostgreSQL backend {backend}"


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--baseline-lines", type=int, default=None)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--profile-out", default=str(Path(tempfile.gettempdir()) / "bench-import.prof"))
    parser.add_argument("--trace-memory", action="store_true")
    parser.add_argument("--chunk", type=int, default=None, help="orders per orders_upsert call (default 500)")
    parser.add_argument("--what-if-bulk-lock", action="store_true",
                        help="measure with stock rows created and locked in bulk (a proposed change)")
    parser.add_argument("--breakdown", action="store_true", help="wall time per part of orders_upsert")
    parser.add_argument("--no-read-ahead", action="store_true",
                        help="read and write in one thread (the runner reads a chunk ahead by default)")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--no-migrate", action="store_true")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL database, e.g. postgres://postgres@127.0.0.1:5432/erp_dev")
    if url.rstrip("/").rsplit("/", 1)[-1].split("?")[0] in ("test", ""):
        sys.exit("Refusing to run against the `test` database.")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if args.chunk:
        from apps.platforms.imports.orders import OrdersImporter

        OrdersImporter.chunk_size = args.chunk
    if args.no_read_ahead:
        from apps.platforms.imports.orders import OrdersImporter

        OrdersImporter.reads_ahead = False
    if args.breakdown:
        time_parts()
    if args.what_if_bulk_lock:
        what_if_bulk_lock_items()
    if not args.no_migrate:
        call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "all-orders.txt"
        started = time.perf_counter()
        orders = generate_report(path, lines=args.lines)
        print(f"report: {args.lines:,} lines, {orders:,} orders, {path.stat().st_size / 1e6:.1f} MB "
              f"(generated in {time.perf_counter() - started:.1f} s)")
        stamp = dt.datetime.now().strftime("%Y%m%d%H%M%S")
        shop = setup_shop(f"bench-amazon-{stamp}")
        base_shop = setup_shop(f"bench-ie-{stamp}")
        rss_before = maxrss_mb()

        clock = CpuClock()
        profiler = cProfile.Profile() if args.profile else None
        if args.trace_memory:
            tracemalloc.start()
        if profiler:
            profiler.enable()
        cpu_before = clock.read()
        job, elapsed = run_job(path, shop)
        cpu_after = clock.read()
        if profiler:
            profiler.disable()
        traced_peak = tracemalloc.get_traced_memory()[1] / 1e6 if args.trace_memory else None
        if args.trace_memory:
            tracemalloc.stop()
        rss_after = maxrss_mb()
        assert job.status == "succeeded", job.errors[:5]
        ours = args.lines / elapsed
        print(f"ours: {job.total_rows:,} lines → {job.created_count:,} orders created in {elapsed:.2f} s "
              f"= {ours:,.0f} lines/s")
        print(f"  {CpuClock.spent(cpu_before, cpu_after)}")
        print(f"peak RSS of the process: {rss_after:.0f} MB (before the import {rss_before:.0f} MB)"
              + (f"; tracemalloc peak of the import {traced_peak:.0f} MB" if traced_peak is not None else ""))

        if args.breakdown:
            print("breakdown of our import (wall seconds; the rest is reading and checking rows, and the commit):")
            for label, seconds in BREAKDOWN.items():
                print(f"  {seconds:7.2f} s  {label}")
            BREAKDOWN.clear()
        cpu_before = clock.read()
        again, again_elapsed = run_job(path, shop)
        cpu_after = clock.read()
        print(f"ours, same file again: {again.unchanged_count:,} unchanged, {again.created_count + again.updated_count}"
              f" written, in {again_elapsed:.2f} s = {args.lines / again_elapsed:,.0f} lines/s")
        print(f"  {CpuClock.spent(cpu_before, cpu_after)}")

        if profiler:
            profiler.dump_stats(args.profile_out)
            stats = pstats.Stats(profiler).strip_dirs().sort_stats("cumulative")
            print("\nWhere orders_upsert spends its time (cumulative seconds, profiled):")
            stats.print_callees("orders_upsert")
            stats.print_stats(30)

        ratio = "not measured (--baseline-lines 0)"
        if args.baseline_lines != 0:
            rows, base_elapsed = baseline(
                path, base_shop, lines=args.lines if args.baseline_lines is None else args.baseline_lines)
            theirs = rows / base_elapsed
            print(f"django-import-export default ModelResource: {rows:,} lines in {base_elapsed:.2f} s "
                  f"= {theirs:,.0f} lines/s")
            print(f"ratio: {ours / theirs:.1f}×")
            ratio = "ok" if ours / theirs >= 20 else "MISSED"
        print(f"targets: ≥ 20,000 lines/s [{'ok' if ours >= 20000 else 'MISSED'}], ratio ≥ 20× "
              f"[{ratio}], peak < 300 MB [{'ok' if rss_after < 300 else 'MISSED'}]")
        if not args.keep:
            cleanup(shop)
            cleanup(base_shop)


if __name__ == "__main__":
    main()
