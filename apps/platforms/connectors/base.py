"""The seed's DataCollector interface. One module per platform implements it; see registry."""
import datetime as dt
import threading
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal

from apps.sales.ingest import OrderData


@dataclass
class Page:
    """One page of raw platform records, and the checkpoint from which the NEXT page is fetched
    (None when this was the last page)."""

    records: list[dict]
    next_checkpoint: dict | None


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
