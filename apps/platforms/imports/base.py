"""What every kind of import shares: the error list and the importer protocol the runner drives."""
import threading
from collections.abc import Callable
from dataclasses import dataclass

from .readers import Column, RowError
from .values import BadValue

# Errors kept on the job; a file with more bad rows still counts them all.
MAX_STORED_ERRORS = 1000


class Errors:
    """Row-numbered errors of one file. Every bad row counts; the first MAX_STORED_ERRORS are kept."""

    def __init__(self):
        self.items: list[RowError] = []
        self.bad_rows: set[int] = set()
        self.total = 0
        # The reading thread (row errors) and the writing one (rejections) may add at the same time.
        self._lock = threading.Lock()

    def add(self, row: int, field: str, message: str) -> None:
        with self._lock:
            self.total += 1
            self.bad_rows.add(row)
            if len(self.items) < MAX_STORED_ERRORS:
                self.items.append(RowError(row=row, field=field, message=message))

    def extend(self, errors: list[RowError]) -> None:
        for error in errors:
            self.add(error.row, error.field, error.message)

    def __bool__(self) -> bool:
        return self.total > 0

    def as_list(self) -> list[dict]:
        return [error.as_dict() for error in sorted(self.items, key=lambda e: (e.row, e.field))]


class RowsNotGrouped(Exception):
    """An order's rows continue after the order was written: the file is read again whole."""


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class Importer:
    """Validates and normalises rows (`feed`), and writes them a chunk at a time (`flush`).

    The runner calls `flush(write=True)` only while the file has no error; once one is found it
    keeps feeding rows so every error is reported, calling `flush(write=False)`, which validates
    what needs the database (e.g. does the SKU exist) but writes nothing."""

    columns: tuple[Column, ...] = ()
    requires_shop = False
    # An importer whose `feed` and `take_chunk` never touch the database lets the runner read and
    # check the next chunk in a thread while this one is stored: `take_chunk` takes a full chunk off
    # (no database), `store_chunk` writes it; `flush` is then `store_chunk(take_chunk())`.
    reads_ahead = False

    def __init__(self, *, job, errors: Errors, streaming: bool = True):
        self.job = job
        self.shop = job.shop
        self.user = job.created_by
        self.errors = errors
        self.streaming = streaming
        self.counts = Counts()
        self.table = None

    def start(self, table) -> None:
        """Called once the header is read; `table.has(key)` tells which optional columns exist."""
        self.table = table

    def feed(self, row: int, cells: dict[str, str]) -> None:
        raise NotImplementedError

    def ready(self) -> bool:
        """A full chunk is waiting to be written."""
        raise NotImplementedError

    def flush(self, *, write: bool, final: bool = False) -> None:
        raise NotImplementedError

    def take_chunk(self, *, final: bool):
        """(reads_ahead importers) The chunk `ready()` announced, or everything left when `final`."""
        raise NotImplementedError

    def store_chunk(self, chunk, *, write: bool, final: bool) -> None:
        """(reads_ahead importers) Stores a chunk `take_chunk` gave; with `write=False` only validates it."""
        raise NotImplementedError

    def label(self, key: str) -> str:
        return next(col.label for col in self.columns if col.key == key)

    def parse(self, row: int, cells: dict[str, str], key: str, parser: Callable, default=None, **kwargs):
        """`parser(cell)` for a filled cell, `default` for an empty or absent one; a bad value is
        recorded against the row and column, and `default` returned."""
        value = cells.get(key, "")
        if not value:
            return default
        try:
            return parser(value, **kwargs)
        except BadValue as exc:
            self.errors.add(row, self.label(key), exc.message)
            return default

    def require(self, row: int, cells: dict[str, str], key: str) -> str:
        value = cells.get(key, "")
        if not value:
            self.errors.add(row, self.label(key), f"“{self.label(key)}”不能为空。")
        return value
