"""Starts the local marketplace servers for the demo shops and points the shops at them."""
import signal
import threading

from django.core.management.base import BaseCommand

from apps.platforms.sandbox.demo import demo_first_collection, demo_shops_point_at_sandbox, start_demo_servers


class Command(BaseCommand):
    help = "启动本地平台沙箱（Shopify、Amazon、eBay、WooCommerce、Shopee 合同服务器）并让演示店铺从中采集。"

    def handle(self, *args, **options):
        pairs = demo_shops_point_at_sandbox()
        if not pairs:
            self.stdout.write("没有可连接沙箱的演示店铺（先运行 seed_demo）。")
            return
        servers = start_demo_servers(pairs)
        for shop, server in servers:
            host, port = server.server_address[:2]
            self.stdout.write(f"sandbox {shop.platform.code:<12} {shop.code:<20} http://{host}:{port}")
        runs = demo_first_collection([shop for shop, _ in servers])
        self.stdout.write(f"queued {len(runs)} first collection runs; beat collects orders every 2 minutes")
        self.stdout.flush()
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        stop.wait()
        for _, server in servers:
            server.shutdown()
            server.server_close()
