"""Starts a platform's contract server and a shop that collects from it (for connector tests)."""
import datetime as dt
from contextlib import contextmanager
from decimal import Decimal

from apps.finance.tests.factories import CurrencyFactory, ExchangeRateFactory, base_currency
from apps.platforms.models import CollectionRun
from apps.platforms.sandbox.core import OrderBook, SandboxState, serve
from apps.platforms.tests.factories import PlatformFactory, ShopFactory

START = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


def rates_for(currency: str, start: dt.date = dt.date(2025, 2, 20), days: int = 60) -> None:
    base_currency()
    cur = CurrencyFactory(code=currency)
    if currency != "CNY" and not cur.rates.exists():
        for offset in range(days):
            ExchangeRateFactory(currency=cur, rate_date=start + dt.timedelta(days=offset), rate=Decimal("7.1"))


@contextmanager
def sandbox_shop(handler_cls, platform_code: str, *, credentials: dict, currency: str = "USD", orders: int = 0,
                 server_credentials: dict | None = None, **shop_fields):
    """Yields (shop, state) with `orders` orders in the book, from START, 7 minutes apart."""
    rates_for(currency)
    state = SandboxState(book=OrderBook(seed=7, currency=currency, start=START),
                         credentials=server_credentials or dict(credentials))
    if orders:
        state.book.add(orders)
    server, base_url = serve(handler_cls, state)
    try:
        shop = ShopFactory(platform=PlatformFactory(code=platform_code), currency=CurrencyFactory(code=currency),
                           api_base_url=base_url, credentials=credentials, **shop_fields)
        yield shop, state
    finally:
        server.shutdown()
        server.server_close()


def run(shop, kind="orders", **window) -> CollectionRun:
    """Creates and executes one run synchronously (what the Celery task does)."""
    from apps.platforms.collection import collection_run_execute

    run = CollectionRun.objects.create(shop=shop, kind=kind, status=CollectionRun.Status.QUEUED, **window)
    return collection_run_execute(run_id=run.pk)


def window(since: dt.datetime, until: dt.datetime) -> dict:
    return {"window_start": since, "window_end": until}
