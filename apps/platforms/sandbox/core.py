"""What every contract server shares: a threaded HTTP server, a deterministic order book that
grows with time, a leaky-bucket rate limiter and injectable faults."""
import bisect
import datetime as dt
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import orjson

SKUS = [f"SB-{n:03d}" for n in range(1, 41)]
COUNTRIES = ["US", "GB", "DE", "FR", "JP", "AU", "CA", "IT", "ES", "NL"]
FIRST_NAMES = ["Ann", "Bob", "Chen", "Dana", "Eve", "Finn", "Gus", "Hana", "Ivan", "Jia"]


@dataclass
class CanonicalLine:
    line_id: str
    sku: str
    title: str
    quantity: int
    unit_price: Decimal


@dataclass
class CanonicalOrder:
    """A platform-neutral order each server renders into its own JSON."""

    number: int
    created_at: dt.datetime
    updated_at: dt.datetime
    currency: str
    country: str
    buyer_id: str
    email: str
    name: str
    lines: list[CanonicalLine]
    shipping: Decimal = Decimal("0.00")
    tax: Decimal = Decimal("0.00")
    discount: Decimal = Decimal("0.00")
    state: str = "paid"  # pending | paid | shipped | delivered | cancelled | partially_refunded | refunded
    refunded: Decimal = Decimal("0.00")
    shipped_at: dt.datetime | None = None
    malformed: bool = False

    def __setattr__(self, name, value):
        # Any change (book.change(), a test marking the order malformed) drops the JSON cached below.
        object.__setattr__(self, name, value)
        self.__dict__.pop("_json", None)

    def json_bytes(self, key, render: Callable[["CanonicalOrder"], dict]) -> bytes:
        """`render(self)` as JSON bytes, rendered once per `key` (a server and its options) until the
        order changes: a server answers the same pages again and again. Lines count as unchanging."""
        cache = self.__dict__.setdefault("_json", {})
        body = cache.get(key)
        if body is None:
            body = cache[key] = orjson.dumps(render(self))
        return body

    @property
    def items_total(self) -> Decimal:
        return sum((line.unit_price * line.quantity for line in self.lines), Decimal("0.00"))

    @property
    def total(self) -> Decimal:
        return self.items_total + self.shipping + self.tax - self.discount


class OrderBook:
    """Orders of one sandbox shop. Deterministic for a seed: order n always looks the same, and
    `grow(now)` adds the orders that "arrived" since the last call plus status changes."""

    def __init__(self, *, seed: int = 1, currency: str = "USD", start: dt.datetime | None = None,
                 per_hour: float = 6.0, countries: list[str] | None = None, skus: list[str] | None = None):
        self.seed = seed
        self.skus = skus or SKUS
        self.currency = currency
        self.start = start or dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
        self.per_hour = per_hour
        self.countries = countries or COUNTRIES
        self.orders: list[CanonicalOrder] = []
        self.lock = threading.RLock()
        # orders sorted by (updated_at, number) and their keys, rebuilt after add/change; a page
        # request bisects it instead of sorting the whole book again
        self._by_update: list[CanonicalOrder] | None = None
        self._update_keys: list[tuple[dt.datetime, int]] = []

    def _make(self, number: int, created_at: dt.datetime) -> CanonicalOrder:
        rng = random.Random(self.seed * 1_000_003 + number)
        lines = []
        for index in range(rng.choice([1, 1, 2, 2, 3, 4])):
            sku = rng.choice(self.skus)
            if any(line.sku == sku for line in lines):
                continue
            lines.append(CanonicalLine(
                line_id=f"{number}{index:02d}", sku=sku, title=f"Sandbox item {sku}", quantity=rng.choice([1, 1, 1, 2, 3]),
                unit_price=Decimal(rng.randrange(599, 8999)) / 100,
            ))
        buyer = rng.randrange(1, max(50, number // 3 + 2))
        order = CanonicalOrder(
            number=number, created_at=created_at, updated_at=created_at, currency=self.currency,
            country=rng.choice(self.countries), buyer_id=f"{self.seed}-{buyer}", email=f"buyer{buyer}@example.com",
            name=f"{rng.choice(FIRST_NAMES)} {buyer}", lines=lines,
            shipping=Decimal(rng.choice([0, 0, 499, 799])) / 100, tax=Decimal(rng.choice([0, 0, 150])) / 100,
            state=rng.choice(["paid"] * 6 + ["pending", "shipped", "shipped", "cancelled"]),
        )
        if order.state == "shipped":
            order.shipped_at = created_at + dt.timedelta(hours=20)
            order.updated_at = order.shipped_at
        return order

    def add(self, count: int, *, at: dt.datetime | None = None, spacing: dt.timedelta = dt.timedelta(minutes=7)
            ) -> list[CanonicalOrder]:
        """Appends `count` orders created from `at` (default: after the last one), `spacing` apart."""
        with self.lock:
            moment = at or (self.orders[-1].created_at + spacing if self.orders else self.start)
            added = []
            for _ in range(count):
                order = self._make(len(self.orders) + 1001, moment)
                self.orders.append(order)
                self._by_update = None
                added.append(order)
                moment += spacing
            return added

    def grow(self, now: dt.datetime) -> None:
        """Brings the book up to `now`: orders at `per_hour`, and older orders move on (ship, refund)."""
        with self.lock:
            expected = int((now - self.start).total_seconds() / 3600 * self.per_hour)
            missing = expected - len(self.orders)
            if missing > 0:
                spacing = dt.timedelta(hours=1 / self.per_hour)
                self.add(missing, spacing=spacing)
            for order in self.orders[-200:]:
                age = now - order.created_at
                if order.state == "paid" and age > dt.timedelta(hours=24):
                    self.change(order.number, state="shipped", at=order.created_at + dt.timedelta(hours=24))
                elif order.state == "shipped" and age > dt.timedelta(days=5) and order.number % 17 == 0:
                    self.change(order.number, state="partially_refunded", refunded=order.total / 4,
                                at=order.created_at + dt.timedelta(days=5))

    def change(self, number: int, *, at: dt.datetime | None = None, **fields) -> CanonicalOrder:
        with self.lock:
            order = next(o for o in self.orders if o.number == number)
            self._by_update = None
            for name, value in fields.items():
                setattr(order, name, value)
            if fields.get("state") == "shipped" and order.shipped_at is None:
                order.shipped_at = at or order.updated_at
            order.updated_at = max(order.updated_at + dt.timedelta(seconds=1), at or dt.datetime.now(dt.UTC))
            return order

    def updated_between(self, since: dt.datetime | None, until: dt.datetime | None) -> list[CanonicalOrder]:
        """Orders with since <= updated_at < until (either bound may be None), by (updated_at, number)."""
        with self.lock:
            if self._by_update is None or len(self._by_update) != len(self.orders):
                self._by_update = sorted(self.orders, key=lambda o: (o.updated_at, o.number))
                self._update_keys = [(o.updated_at, o.number) for o in self._by_update]
            first = 0 if since is None else bisect.bisect_left(self._update_keys, (since,))
            end = len(self._update_keys) if until is None else bisect.bisect_left(self._update_keys, (until,))
            return self._by_update[first:end]


class LeakyBucket:
    """Shopify-style: `capacity` requests, leaking `leak_per_second`. None disables limiting."""

    def __init__(self, capacity: int = 40, leak_per_second: float = 2.0):
        self.capacity, self.leak = capacity, leak_per_second
        self.level = 0.0
        self.updated = time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> tuple[bool, float, int]:
        """(allowed, seconds to wait if not, current level)."""
        with self.lock:
            now = time.monotonic()
            self.level = max(0.0, self.level - (now - self.updated) * self.leak)
            self.updated = now
            if self.level + 1 > self.capacity:
                return False, (self.level + 1 - self.capacity) / self.leak, int(self.level)
            self.level += 1
            return True, 0.0, int(self.level)


@dataclass
class SandboxState:
    """Everything a contract server serves and the knobs tests turn."""

    book: OrderBook
    credentials: dict = field(default_factory=dict)
    limiter: LeakyBucket | None = None
    faults: list[int] = field(default_factory=list)  # status codes answered to the next requests
    requests: list[str] = field(default_factory=list)  # "METHOD path?query" of every request seen
    grow_with_clock: bool = False
    stock: dict[str, int] = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    # Called with the request's query just before an orders page is computed: a test changes the
    # book there (e.g. modifies an order the run already read) to reproduce changes mid-run.
    before_orders_page: Callable[[dict], None] | None = None

    def next_fault(self) -> int | None:
        return self.faults.pop(0) if self.faults else None

    def orders_page_requested(self, query: dict) -> None:
        if self.before_orders_page is not None:
            self.before_orders_page(query)


class ContractHandler(BaseHTTPRequestHandler):
    """Base request handler: JSON helpers, query parsing, request log, faults and rate limiting.
    Subclasses implement `route(method, path, query, body)` returning (status, payload, headers)."""

    state: SandboxState  # set on the server
    # Keep-alive, as the platforms allow: a client's pages reuse one connection (every answer has
    # a Content-Length) instead of a connect and a server thread per request. Without Nagle: on a
    # kept-alive connection, the body written after the headers would wait for the client's
    # delayed ACK (40 ms a request).
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # keep test output clean
        return

    @property
    def sandbox(self) -> SandboxState:
        return self.server.state

    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        self.sandbox.requests.append(f"{method} {self.path}")
        if self.sandbox.grow_with_clock:
            self.sandbox.book.grow(dt.datetime.now(dt.UTC))
        fault = self.sandbox.next_fault()
        if fault is not None:
            status, payload, headers = self.fault_response(fault)
        else:
            status, payload, headers = self.route(method, parts.path, query, raw)
        body = payload if isinstance(payload, bytes) else json.dumps(payload, default=str).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def fault_response(self, status: int):
        if status == 429:
            return 429, {"errors": "Exceeded rate limit"}, {"Retry-After": "0.05"}
        return status, {"errors": "Internal error"}, {}

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def route(self, method, path, query, body):
        raise NotImplementedError


def serve(handler_cls: type[ContractHandler], state: SandboxState, *, host: str = "127.0.0.1", port: int = 0
          ) -> tuple[ThreadingHTTPServer, str]:
    """Starts a contract server in a daemon thread; returns it and its base URL."""
    server = ThreadingHTTPServer((host, port), handler_cls)
    server.daemon_threads = True
    server.state = state
    # a short poll interval: shutdown() waits for it (0.5 s by default, per server, per test)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name=f"sandbox-{handler_cls.__name__}", daemon=True)
    thread.start()
    return server, f"http://{host}:{server.server_address[1]}"
