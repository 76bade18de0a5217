"""What the two order exports share: rows grouped into orders, orders stored through
`orders_upsert` a chunk at a time, its rejections reported against the order's first row."""
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from apps.core.money import CENT, ZERO
from apps.finance.models import Currency
from apps.sales.ingest import LineData, OrderData, orders_upsert
from apps.sales.ingest.effects import deferred_effects_apply
from apps.sales.ingest.fastwrite import deferred_checks_run

from . import values
from .base import Importer, RowsNotGrouped

# Money texts parsed and kept per file before the cache starts afresh: prices repeat (a catalogue's
# prices times a few quantities), so a report of 100,000 lines has a few thousand distinct amounts.
AMOUNTS_CACHED = 50_000

# Orders per orders_upsert call. Each call has a fixed cost (listings, stock rows, rollups of its
# days); measured on PostgreSQL (bench/import.py --chunk), 2,000 was the fastest of 500–5,000,
# and 2,000 drafted orders stay a few MB.
ORDERS_PER_CHUNK = 2000


@dataclass
class LineDraft:
    platform_sku: str
    title: str
    quantity: int
    line_total: Decimal

    def to_line(self) -> LineData:
        # Most lines are of one unit: the same rounding without a Decimal division.
        total, quantity = self.line_total, self.quantity
        unit_price = (total if quantity == 1 else total / quantity).quantize(CENT, rounding=ROUND_HALF_UP)
        return LineData(platform_sku=self.platform_sku, title=self.title, quantity=self.quantity,
                        unit_price=unit_price, line_total=self.line_total)


@dataclass
class OrderDraft:
    """The rows of one order read so far; `bad` once any of its rows had an error."""

    first_row: int
    lines: dict[str, LineDraft] = field(default_factory=dict)
    bad: bool = False

    def add_line(self, *, sku: str, title: str, quantity: int, line_total: Decimal) -> None:
        # Lines are keyed by SKU (the exports carry no line id): the same SKU twice in one order is
        # one line with the quantities added, so re-importing the file finds the same lines.
        line = self.lines.get(sku)
        if line is None:
            self.lines[sku] = LineDraft(platform_sku=sku, title=title, quantity=quantity, line_total=line_total)
        else:
            line.quantity += quantity
            line.line_total += line_total


class OrdersImporter(Importer):
    """Rows of one order are expected together (both exports write them so). When an order's
    rows continue after it was written, `RowsNotGrouped` asks the runner to read the file again
    holding every order until the end."""

    requires_shop = True
    reads_ahead = True
    chunk_size = ORDERS_PER_CHUNK

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.known_currencies = set(Currency.objects.values_list("code", flat=True))
        self.pending: dict[str, OrderDraft] = {}
        self.written: set[str] = set()
        self.last_key: str | None = None
        # Stock and rollups of the written chunks: applied once, after the last chunk.
        self.rollup_days: set = set()
        self.leaving_order_ids: list[int] = []
        # The shop's listings by SKU, found or created by the chunks written so far (one transaction).
        self.listings: dict[str, tuple[int, int | None]] = {}
        # Money text -> its value (valid ones only; "" is 0), unsigned and signed: see `amount`.
        self.amounts: dict[str | None, Decimal] = {"": ZERO, None: ZERO}
        self.signed_amounts: dict[str | None, Decimal] = {"": ZERO, None: ZERO}

    # Kind-specific --------------------------------------------------------------------------------
    def order_key(self, row: int, cells: dict[str, str]) -> str:
        """The key grouping rows into orders ("" when missing; the error is recorded)."""
        raise NotImplementedError

    def begin(self, row: int, cells: dict[str, str], key: str) -> OrderDraft:
        """A draft from the first row of an order (with its first line)."""
        raise NotImplementedError

    def more(self, draft: OrderDraft, row: int, cells: dict[str, str]) -> None:
        """A further row of the order."""
        raise NotImplementedError

    def finish(self, draft: OrderDraft) -> OrderData:
        raise NotImplementedError

    # Shared ---------------------------------------------------------------------------------------
    def feed(self, row: int, cells: dict[str, str]) -> None:
        key = self.order_key(row, cells)
        if not key:
            return
        if key in self.written:
            raise RowsNotGrouped(key)
        draft = self.pending.get(key)
        if draft is None:
            self.pending[key] = self.begin(row, cells, key)
        else:
            self.more(draft, row, cells)
        self.last_key = key

    def ready(self) -> bool:
        # One more than a chunk: the order read last may continue on the next row.
        return self.streaming and len(self.pending) > self.chunk_size

    def flush(self, *, write: bool, final: bool = False) -> None:
        self.store_chunk(self.take_chunk(final=final), write=write, final=final)

    def take_chunk(self, *, final: bool) -> list[tuple[OrderData, int]]:
        """The finished orders read so far (all but the last one, which may continue, unless
        `final`), with their first rows. Touches no database: it runs in the reading thread."""
        keep = None if final else self.last_key
        batch: list[tuple[OrderData, int]] = []
        for key, draft in self.pending.items():
            if key == keep or draft.bad:
                continue
            data = self.finish(draft)
            if not draft.bad:
                batch.append((data, draft.first_row))
        if self.streaming:
            self.written.update(key for key in self.pending if key != keep)
        self.pending = {keep: self.pending[keep]} if keep in self.pending else {}
        return batch

    def store_chunk(self, chunk: list[tuple[OrderData, int]], *, write: bool, final: bool) -> None:
        if write and not self.errors:
            for start in range(0, len(chunk), self.chunk_size):
                self._upsert(chunk[start:start + self.chunk_size])
                if self.errors:
                    break
            # This chunk's foreign-key checks now, while the reading thread parses the next one
            # (deferred, they would all run at the commit, after the last chunk).
            deferred_checks_run()
        if final and write and not self.errors:
            deferred_effects_apply(shop_id=self.shop.pk, rollup_days=self.rollup_days,
                                   leaving_order_ids=self.leaving_order_ids,
                                   orders_written=self.counts.created + self.counts.updated)

    def _upsert(self, batch: list[tuple[OrderData, int]]) -> None:
        result = orders_upsert(shop=self.shop, orders=[data for data, _ in batch], defer_effects=True,
                               listings_seen=self.listings)
        self.rollup_days |= result.rollup_days
        self.leaving_order_ids.extend(result.leaving_order_ids)
        first_rows = {data.platform_order_id: row for data, row in batch}
        for data, reason in result.rejected:
            self.errors.add(first_rows[data.platform_order_id], self.rejection_field(reason), reason)
        self.counts.created += result.created
        self.counts.updated += result.updated
        self.counts.unchanged += result.unchanged

    def rejection_field(self, reason: str) -> str:
        """The column a rejection of orders_upsert points at (a missing rate is the currency's)."""
        return self.label("currency") if ("汇率" in reason or "币种" in reason) else ""

    def amount(self, draft: OrderDraft, row: int, cells: dict[str, str], key: str, *, signed=False) -> Decimal:
        """A money cell of the order (blank = 0); a bad one marks the order bad. The fast path is
        a plain decimal; anything else (`1,234.50`, `12,50`, `$5`) goes through `values.money`."""
        text = cells.get(key)
        if not text:
            return ZERO
        known = self.signed_amounts if signed else self.amounts
        value = known.get(text)
        if value is not None:
            return value  # each distinct text is parsed once
        try:
            value = Decimal(text)
        except InvalidOperation:
            value = None
        if value is not None and value.is_finite() and (signed or value >= 0):
            value = value.quantize(CENT, rounding=ROUND_HALF_UP)
        else:
            try:
                value = values.money(text, allow_negative=signed)
            except values.BadValue as exc:
                draft.bad = True
                self.errors.add(row, self.label(key), exc.message)
                return ZERO
        if len(known) >= AMOUNTS_CACHED:
            known.clear()
            known.update({"": ZERO, None: ZERO})
        known[text] = value
        return value
