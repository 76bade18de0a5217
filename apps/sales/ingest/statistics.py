"""Planner statistics of the order tables while one run grows them (PostgreSQL).

Autovacuum analyses a table once a tenth of it has changed, but looks only every minute: a shop's
first collection into a new or small database writes tens of thousands of orders before that,
planned with statistics of nearly empty tables. Measured (bench/collect.py, 100,000 orders into a
fresh database): the foreign-key checks at each page's commit and the look-ups of stored orders
then cost 580 µs of PostgreSQL time per order against 165 µs once the tables were analysed, and one
ANALYZE after 5,000 orders took 0.09 s. So a run analyses the tables itself each time it has
written as many orders as the planner believed the table held (at least `MIN_ORDERS`): a few times
while a small database grows, never on a large one, where autovacuum keeps up."""
import logging
import threading

from django.db import DatabaseError, connection

from apps.finance.models import FinancialRecord
from apps.sales.models import Customer, Order, OrderLine

MIN_ORDERS = 5000
# The columns the ingest and the rollups filter, join and group on: an ANALYZE of only these (and
# the table's row count, which every ANALYZE sets) takes about half the time of the whole table's;
# the other columns keep their statistics until autovacuum's next ANALYZE.
PLANNED_COLUMNS = {
    Order: ("shop_id", "platform_order_id", "ordered_at", "status", "customer_id", "fulfillment_channel",
            "shipped_at"),
    OrderLine: ("order_id", "product_id", "stock_posted_at"),
    Customer: ("shop_id", "platform_buyer_id", "email", "first_ordered_at"),
    FinancialRecord: ("order_id", "shop_id", "source_key"),
}
TABLES = tuple(PLANNED_COLUMNS)

logger = logging.getLogger(__name__)


def _planner_rows(model) -> int:
    """The row count the planner last recorded for the table (0 when never analysed)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table])
        row = cursor.fetchone()
    return max(int(row[0]), 0) if row else 0


def tables_analyze(models=TABLES) -> None:
    """ANALYZE of the planned columns of these tables (inside a transaction it counts the
    transaction's own rows too)."""
    quote = connection.ops.quote_name

    def target(model) -> str:
        columns = ", ".join(quote(model._meta.get_field(name).column) for name in PLANNED_COLUMNS[model])
        return f"{quote(model._meta.db_table)} ({columns})"

    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(target(model) for model in models)}")


class GrowthWatch:
    """Counts the orders a run has written and analyses the order tables when they have outgrown
    their statistics. `written` may be called from several threads (pipelined pages), each on its
    own connection, after its rows are committed or inside the transaction that wrote them (ANALYZE
    there counts the transaction's own rows). Does nothing except on PostgreSQL."""

    def __init__(self):
        self.active = connection.vendor == "postgresql"
        self.known = _planner_rows(Order) if self.active else 0
        self.since = 0
        self.analyses = 0
        self._lock = threading.Lock()

    def written(self, orders: int) -> None:
        if not self.active or not orders:
            return
        with self._lock:
            self.since += orders
            if self.since < max(MIN_ORDERS, self.known):
                return
            self.known += self.since
            self.since = 0
            self.analyses += 1
        try:
            tables_analyze()
        except DatabaseError:  # statistics only speed the run up: their failure must not fail it
            logger.exception("ANALYZE of the order tables failed")
