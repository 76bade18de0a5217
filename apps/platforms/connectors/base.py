"""The seed's DataCollector interface. One module per platform implements it; see registry."""
import datetime as dt
import threading
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal

from apps.sales.ingest import OrderData

from .errors import ConnectorError

# Pages in a row that may come back with a changed result set before a run gives up
MAX_RESULT_SET_CHANGES = 5


@dataclass
class Page:
    """One page of raw platform records, and the checkpoint from which the NEXT page is fetched
    (None when this was the last page)."""

    records: list[dict]
    next_checkpoint: dict | None


@dataclass
class ResultSetWatch:
    """Guards offset / page-number paging over a time window against orders leaving the set.

    The run's window end is fixed when it starts, so while it pages the set can only shrink: an
    order modified now moves past the end. Each one that leaves from before the read position
    moves every later order one place back, and one order would slide, unread, into the region
    already read; not modified itself, no later run would pick it up. The platform reports the
    set's size on every page, so a page whose total fell by d is not used: paging goes on from d
    places before it, which covers every order that could have slid back (re-reading a few is a
    no-op upsert). A total that rose has no such bound (the window end is in the platform's future,
    e.g. a skewed clock): the window is read again from its start. If the set changes on
    MAX_RESULT_SET_CHANGES pages in a row (or the window is re-read from its start more often than
    that), the run ends with the reason instead of looping; its checkpoint holds the last total, so
    the resumed run allows for orders that left meanwhile."""

    total: int | None = None  # the total of the last page used (carried in the checkpoint)
    changes_in_a_row: int = 0
    restarts: int = 0  # re-reads from the window start; a set that keeps growing must not loop

    def reread_from(self, position: int, total: int | None) -> int | None:
        """None when the page served at `position` (0-based index of its first order) with `total`
        can be used; otherwise the position from which to read again."""
        expected = self.total
        if total is None or expected is None or total == expected:
            self.total = total if total is not None else expected
            self.changes_in_a_row = 0
            return None
        if position == 0:
            # Nothing before the window's first page could have been skipped, so it is used; but
            # the set did change, so it does not end a run of changes (a re-read that lands on
            # page 1 must not reset the bound).
            self.total = total
            return None
        if total > expected:
            self.restarts += 1
        return self._changed(total, max(0, position - (expected - total)) if total < expected else 0)

    def lost_track(self, position: int) -> int | None:
        """A page past the end when the last total said there was more (the platform reported no
        total with it): the set shrank by an unknown amount, so the window is read again."""
        if self.total is None or position >= self.total:
            return None
        self.restarts += 1
        return self._changed(None, 0)

    def _changed(self, total: int | None, position: int) -> int:
        self.changes_in_a_row += 1
        if self.changes_in_a_row > MAX_RESULT_SET_CHANGES or self.restarts > MAX_RESULT_SET_CHANGES:
            raise ConnectorError(
                f"翻页期间平台的订单集合不断变化（连续 {self.changes_in_a_row} 页总数改变、从头重读 {self.restarts} 次；"
                f"订单总数 {self.total} → {total if total is not None else '未知'}），为避免漏单已停止本次采集；"
                "已存的页保留，下次采集将从断点继续。")
        self.total = total
        return position


@dataclass
class StockRecord:
    platform_sku: str
    quantity: int
    platform_item_id: str = ""


@dataclass
class ListingRecord:
    platform_sku: str
    title: str = ""
    platform_item_id: str = ""
    price: object = None
    currency: str = ""
    platform_stock: int | None = None


@dataclass
class ShopContext:
    """What a connector knows about the shop it collects from."""

    shop_id: int
    base_url: str
    credentials: dict
    marketplace: str = ""
    currency: str = ""
    timezone: str = "UTC"
    request_budget: int = 10_000
    fee_rate: Decimal = Decimal("0")  # used when the platform does not report its fee per order
    extra: dict = field(default_factory=dict)


class DataCollector(ABC):
    """Collects one shop's data. Async (httpx). Orders come page by page so a run can checkpoint."""

    platform_code: str = ""

    def __init__(self, shop: ShopContext):
        self.shop = shop
        self._credentials_lock = threading.Lock()
        self._updated_credentials: dict | None = None

    # Pages are fetched in a thread while the run stores the previous page: a refresh there sets
    # the new tokens while the run may be taking older ones, so the hand-over holds a lock.
    @property
    def updated_credentials(self) -> dict | None:
        """Tokens a refresh produced that the shop has not stored yet."""
        return self._updated_credentials

    @updated_credentials.setter
    def updated_credentials(self, value: dict | None) -> None:
        with self._credentials_lock:
            self._updated_credentials = value

    def take_updated_credentials(self) -> dict | None:
        """The tokens to store, if a refresh produced any since the last call; the run stores them."""
        with self._credentials_lock:
            value, self._updated_credentials = self._updated_credentials, None
        return value

    @abstractmethod
    def collect_orders(self, since: dt.datetime, until: dt.datetime, checkpoint: dict | None = None
                       ) -> AsyncIterator[Page]:
        """Orders updated in [since, until), oldest pages first; resumes at `checkpoint` if given."""

    @abstractmethod
    def normalize_order(self, record: dict) -> OrderData:
        """Turns one raw order into our terms; raises CleaningError for a malformed record."""

    @abstractmethod
    async def collect_products(self) -> list[ListingRecord]:
        """The shop's listings (platform SKUs)."""

    @abstractmethod
    async def collect_inventory(self) -> list[StockRecord]:
        """Stock the platform holds or reports per platform SKU."""

    @abstractmethod
    async def test_connection(self) -> str:
        """Checks the credentials with one cheap call; returns a short description of the shop."""
