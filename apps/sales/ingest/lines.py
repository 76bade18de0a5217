"""Which stored line an incoming line is, across sources.

A connector knows each line's platform id; a seller's export file often does not (Shopify's
"Export orders" CSV has SKUs but no line ids), so the same order may arrive keyed both ways. The rule:

1. A line id on both sides decides: same id, same line.
2. Otherwise lines pair by SKU, in stored order, when at most one side has an id (a line with an id
   never pairs with a stored line holding a different id: those are two lines of the same SKU).
3. An incoming id paired with a stored line without one is adopted by the stored line, so the next
   pull from the connector matches it by id.

Stored lines left unpaired are the ones the order no longer has.
"""
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class StoredLine:
    pk: int
    platform_line_id: str
    platform_sku: str
    values: tuple
    stock_posted_at: object = None


@dataclass
class LineMatch:
    stored_for: list[StoredLine | None]  # one per incoming line, in its order
    unmatched: list[StoredLine] = field(default_factory=list)
    adopted_ids: list[tuple[int, str]] = field(default_factory=list)  # (stored pk, incoming id)


def lines_match(stored: Sequence[StoredLine], incoming: Sequence[tuple[str, str]]) -> LineMatch:
    """Pairs `incoming` lines, given as (platform line id, SKU), with `stored` ones."""
    free = sorted(stored, key=lambda line: line.pk)
    by_id = {line.platform_line_id: line for line in free if line.platform_line_id}
    stored_for: list[StoredLine | None] = [None] * len(incoming)
    taken: set[int] = set()
    for index, (line_id, _) in enumerate(incoming):
        line = by_id.get(line_id) if line_id else None
        if line is not None and line.pk not in taken:
            stored_for[index] = line
            taken.add(line.pk)
    adopted: list[tuple[int, str]] = []
    for index, (line_id, sku) in enumerate(incoming):
        if stored_for[index] is not None:
            continue
        for line in free:
            if line.pk in taken or line.platform_sku != sku:
                continue
            if line_id and line.platform_line_id:
                continue
            stored_for[index] = line
            taken.add(line.pk)
            if line_id and not line.platform_line_id:
                adopted.append((line.pk, line_id))
            break
    return LineMatch(
        stored_for=stored_for,
        unmatched=[line for line in free if line.pk not in taken],
        adopted_ids=adopted,
    )
