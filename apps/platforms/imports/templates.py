"""Our own templates (products, listings, stock levels): one row per record, a natural key per row
(SKU, shop + platform SKU, SKU + warehouse), validated row by row and written a chunk at a time."""
from dataclasses import dataclass, field

from .base import Importer
from .readers import Column, column

ROWS_PER_CHUNK = 1000


def model_column(model, name: str, *extra: str, key: str | None = None, required: bool = False) -> Column:
    """A column found by the field name, its Chinese label (what an Admin export writes) or `extra`."""
    label = str(model._meta.get_field(name).verbose_name)
    return column(key or name, name, label, *extra, required=required)


@dataclass
class Record:
    """One row of a template: where it is, its natural key, and the values it provides (columns
    present and filled; an empty cell leaves the stored value alone)."""

    row: int
    key: tuple
    values: dict = field(default_factory=dict)
    refs: dict = field(default_factory=dict)


class TemplateImporter(Importer):
    chunk_size = ROWS_PER_CHUNK

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.chunk: list[Record] = []
        self.first_row_of: dict[tuple, int] = {}

    def key_of(self, row: int, cells: dict[str, str]) -> tuple | None:
        raise NotImplementedError

    def read(self, record: Record, cells: dict[str, str]) -> None:
        """Parses the row's values into `record.values` / `record.refs`, recording errors."""
        raise NotImplementedError

    def write(self, records: list[Record], *, write: bool) -> None:
        """Checks what needs the database and, when `write`, stores the chunk."""
        raise NotImplementedError

    def key_label(self) -> str:
        return self.columns[0].label

    def feed(self, row, cells):
        key = self.key_of(row, cells)
        errors_before = self.errors.total
        record = Record(row=row, key=key)
        self.read(record, cells)
        if key is None:
            return
        first = self.first_row_of.get(key)
        if first is not None:
            self.errors.add(row, self.key_label(), f"与第 {first} 行重复。")
            return
        self.first_row_of[key] = row
        if self.errors.total == errors_before:
            self.chunk.append(record)

    def ready(self):
        return len(self.chunk) >= self.chunk_size

    def flush(self, *, write, final=False):
        records, self.chunk = self.chunk, []
        if records:
            self.write(records, write=write and not self.errors)
