#!/usr/bin/env python
"""Benchmark of the REST API on a big database: a production ASGI server with several workers,
driven by concurrent clients; prints p50/p95/p99 latency and requests/s per endpoint.

    # once: a million orders (about 2.5 lines each) in PostgreSQL
    createdb -h 127.0.0.1 -U postgres erp_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/erp_bench DEBUG=1 .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/erp_bench DEBUG=1 .venv/bin/python manage.py seed_demo --orders 1000000
    psql -h 127.0.0.1 -U postgres erp_bench -c 'VACUUM ANALYZE'   # what autovacuum does in time
    # then
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/erp_bench .venv/bin/python bench/api.py --workers 2 --concurrency 2,4,8

Each endpoint is driven alone by N concurrent clients (N in --concurrency); latency includes the
time a request waits for a free worker, so with N clients on W workers it is about N/W times the
service time. The analyses' period defaults to the last 30 days (--period to change it).

Targets (issue 3, on this 2-core machine): dashboard endpoints and the first and the 1,000th page of
a filtered order list p95 < 50 ms; sales, customer and inventory analyses and profit p95 < 200 ms.
"""
import argparse
import asyncio
import datetime as dt
import os
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FAST = 50.0
SLOW = 200.0


def endpoints(period: str) -> list[tuple[str, str, float]]:
    """(label, path, p95 target in ms)."""
    return [
        ("dashboard/kpis", f"/api/v1/dashboard/kpis/?{period}", FAST),
        ("dashboard/sales-trend", f"/api/v1/dashboard/sales-trend/?{period}&interval=day", FAST),
        ("dashboard/platform-distribution", f"/api/v1/dashboard/platform-distribution/?{period}", FAST),
        ("dashboard/recent-orders", "/api/v1/dashboard/recent-orders/", FAST),
        ("orders page 1 (filtered)", "/api/v1/orders/?status=delivered&page=1", FAST),
        ("orders page 1000 (filtered)", "/api/v1/orders/?status=delivered&page=1000", FAST),
        ("sales/summary by day", f"/api/v1/sales/summary/?{period}&group_by=day", SLOW),
        ("sales/summary by sku", f"/api/v1/sales/summary/?{period}&group_by=sku", SLOW),
        ("sales/summary by country", f"/api/v1/sales/summary/?{period}&group_by=country", SLOW),
        ("sales/order-analysis", f"/api/v1/sales/order-analysis/?{period}", SLOW),
        ("sales/customer-analysis", f"/api/v1/sales/customer-analysis/?{period}", SLOW),
        ("sales/team-performance", f"/api/v1/sales/team-performance/?{period}", SLOW),
        ("inventory/analysis", "/api/v1/inventory/analysis/", SLOW),
        ("inventory/replenishment", "/api/v1/inventory/replenishment/", SLOW),
        ("finance/profit by month", f"/api/v1/finance/profit/?{period}&group_by=month", SLOW),
    ]


def settings_value(expression: str, env: dict) -> str:
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def bench_user_token(env: dict) -> str:
    """Creates (or reuses) an administrator for the benchmark and returns an access token."""
    code = (
        "import django; django.setup();"
        "from django.contrib.auth.models import Group; from apps.users.models import User;"
        "from rest_framework_simplejwt.tokens import AccessToken;"
        "u, _ = User.objects.get_or_create(username='bench-admin');"
        "u.groups.add(Group.objects.get(name='管理员'));"
        "print(AccessToken.for_user(u))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


async def drive(base: str, token: str, path: str, *, requests: int, concurrency: int,
                fresh_connections: bool) -> tuple[list[float], float, int]:
    latencies: list[float] = []
    errors = 0
    queue = asyncio.Queue()
    for _ in range(requests):
        queue.put_nowait(None)

    async def client_loop(client):
        nonlocal errors
        while not queue.empty():
            queue.get_nowait()
            began = time.perf_counter()
            response = await client.get(path)
            latencies.append((time.perf_counter() - began) * 1000)
            errors += response.status_code != 200

    # A connection per request: the server's workers share one listening socket and the kernel hands
    # each new connection to an idle one, as a load balancer would. Kept-alive connections would all
    # stay with whichever worker accepted them first (often the same one), serialising the clients.
    limits = httpx.Limits(max_keepalive_connections=0) if fresh_connections else httpx.Limits()
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60,
                                 limits=limits) as client:
        await client.get(path)  # warm the worker's connection and caches of the query plan
        began = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return latencies, requests / elapsed, errors


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", default="2,4,8",
                        help="concurrent clients per endpoint; a comma-separated list runs each level in turn")
    parser.add_argument("--requests", type=int, default=200, help="per endpoint")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--keep-alive", action="store_true",
                        help="reuse connections (each stays with the worker that accepted it)")
    parser.add_argument("--only", default="", help="drive only the endpoints whose label contains this text")
    last_day = dt.date.today() - dt.timedelta(days=1)
    parser.add_argument("--period", default=f"start={last_day - dt.timedelta(days=29)}&end={last_day}",
                        help="query string of the analyses' period (default: the last 30 days)")
    args = parser.parse_args()

    env = dict(os.environ)
    if "SHOP_CREDENTIALS_KEYS" not in env:
        # The keys the data was seeded with (the README seeds with DEBUG=1: the development key).
        env["SHOP_CREDENTIALS_KEYS"] = settings_value("','.join(settings.SHOP_CREDENTIALS_KEYS)",
                                                      {**env, "DEBUG": env.get("DEBUG", "1"),
                                                       "DJANGO_SETTINGS_MODULE": "erp.settings"})
    env.setdefault("SECRET_KEY", secrets.token_urlsafe(64))
    env.update({"DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1,localhost", "SECURE_SSL_REDIRECT": "0",
                "DJANGO_SETTINGS_MODULE": "erp.settings", "LOG_LEVEL": "WARNING"})
    if not env.get("DATABASE_URL", "").startswith("postgres"):
        print("warning: DATABASE_URL is not PostgreSQL; the targets are for PostgreSQL", file=sys.stderr)
    token = bench_user_token(env)
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "erp.asgi:application", "--host", "127.0.0.1", "--port", str(args.port),
         "--workers", str(args.workers), "--no-access-log", "--lifespan", "off"],
        cwd=ROOT, env=env,
    )
    base = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/api/schema/", timeout=2).status_code < 500:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        for concurrency in [int(level) for level in args.concurrency.split(",")]:
            print(f"\n{concurrency} concurrent clients, {args.workers} server workers, {args.requests} requests per "
                  f"endpoint (load average before: {os.getloadavg()[0]:.2f})")
            print(f"{'endpoint':<34}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'req/s':>9}{'target':>9}  ok")
            for label, path, target in endpoints(args.period):
                if args.only not in label:
                    continue
                latencies, rate, errors = asyncio.run(
                    drive(base, token, path, requests=args.requests, concurrency=concurrency,
                          fresh_connections=not args.keep_alive)
                )
                p95 = percentile(latencies, 95)
                verdict = "yes" if p95 < target and not errors else f"NO{' (errors: %d)' % errors if errors else ''}"
                print(f"{label:<34}{percentile(latencies, 50):>9.1f}{p95:>9.1f}{percentile(latencies, 99):>9.1f}"
                      f"{rate:>9.1f}{target:>9.0f}  {verdict}", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
