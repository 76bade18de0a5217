"""The running demo really collects: each demo shop is pointed at its local contract server and
a collection run brings orders in, for every platform that has a connector."""
import contextlib
import random
import socket

import pytest
from django.test import override_settings
from django_celery_beat.models import PeriodicTask

from apps.finance.tests.factories import CurrencyFactory
from apps.platforms.sandbox.demo import HANDLERS, demo_shops_point_at_sandbox, start_demo_servers
from apps.platforms.tests.factories import ListingFactory, PlatformFactory, ShopFactory
from apps.sales.models import Order

from .sandbox_support import rates_for, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_shops():
    import datetime as dt

    rates_for("USD", start=dt.date.today() - dt.timedelta(days=5), days=10)
    shops = []
    for code in HANDLERS:
        shop = ShopFactory(platform=PlatformFactory(code=code), code=f"demo-{code}", currency=CurrencyFactory(code="USD"),
                           country="US", credentials={}, api_base_url="")
        for n in range(3):
            ListingFactory(shop=shop, platform_sku=f"{code}-SKU-{n}-GY")  # demo SKUs end in letters
        shops.append(shop)
    ShopFactory(platform=PlatformFactory(code="walmart"), code="demo-walmart")  # no connector: left alone
    return shops


def free_port_base(count: int) -> int:
    """A base port whose next `count` ports are free now, below the kernel's ephemeral range (from
    32768): a random base inside it once met a client socket's local port (EADDRINUSE)."""
    for _ in range(50):
        base = random.randint(20000, 32000 - count)
        try:
            with contextlib.ExitStack() as sockets:
                for port in range(base, base + count):
                    sockets.enter_context(socket.socket()).bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("no free run of ports between 20000 and 32000")


def test_every_demo_shop_collects_orders_from_its_sandbox(demo_shops):
    with override_settings(SANDBOX_PORT_BASE=free_port_base(len(HANDLERS))):
        pairs = demo_shops_point_at_sandbox()
    assert sorted(shop.platform.code for shop, _ in pairs) == sorted(HANDLERS)
    servers = start_demo_servers(pairs)
    try:
        for shop, _ in pairs:
            shop.refresh_from_db()
            result = run(shop)
            assert result.status == "succeeded", f"{shop.platform.code}: {result.error}"
            collected = Order.objects.filter(shop=shop)
            assert collected.count() == result.records_created > 0, shop.platform.code
            skus = set(collected.values_list("lines__platform_sku", flat=True))
            assert skus <= {f"{shop.platform.code}-SKU-{n}-GY" for n in range(3)}
            for kind in ("products", "inventory"):
                other = run(shop, kind)
                assert other.status == "succeeded", f"{shop.platform.code} {kind}: {other.error}"
    finally:
        for _, server in servers:
            server.shutdown()
            server.server_close()


def test_demo_shops_get_frequent_enabled_order_schedules(demo_shops):
    with override_settings(SANDBOX_PORT_BASE=random.randint(20000, 40000)):
        demo_shops_point_at_sandbox()
    orders = PeriodicTask.objects.get(name="sync demo-shopify orders")
    assert orders.enabled and orders.interval.every == 2
    assert not PeriodicTask.objects.filter(name__startswith="sync demo-walmart ", enabled=True).exists()


def test_the_sandbox_queues_a_first_run_of_every_kind_per_demo_shop(demo_shops, django_capture_on_commit_callbacks):
    from apps.platforms.models import CollectionRun
    from apps.platforms.sandbox.demo import demo_first_collection

    with override_settings(SANDBOX_PORT_BASE=random.randint(20000, 40000)):
        pairs = demo_shops_point_at_sandbox()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        demo_first_collection([shop for shop, _ in pairs])
    assert CollectionRun.objects.filter(status="queued").count() == len(HANDLERS) * 3 == len(callbacks)


def test_beat_sees_the_demo_schedule_change(demo_shops):
    from django_celery_beat.models import PeriodicTasks

    before = PeriodicTasks.last_change()
    with override_settings(SANDBOX_PORT_BASE=random.randint(20000, 40000)):
        demo_shops_point_at_sandbox()
    assert PeriodicTasks.last_change() is not None and PeriodicTasks.last_change() != before
