"""Fast appends for the demo's row-heavy tables: exchange rates, listings, customers, orders,
order lines, the stock ledger and its documents, financial records.

bulk_create costs about 50 µs per model instance plus a few µs per field, and on PostgreSQL an
INSERT … UNNEST per batch: fine for thousands of rows, several minutes for millions. These tables
are instead written in batches from plain tuples: COPY on PostgreSQL, executemany elsewhere. Ids
are assigned here (the demo only runs on a database without orders, inside one transaction), so
children can point at parents before anything is written, and sequences are reset at the end.
Historical rows also get historical `created_at` values, which auto_now_add would overwrite.
The small tables (catalogue, shops, purchase orders, expenses, …) use bulk_create."""
from operator import itemgetter

from django.core.management.color import no_style
from django.db import connection, models
from django.db.models import Max
from django.utils import timezone

_REQUIRED = object()


class Draft:
    """An attribute bag for a row being built (services such as `order_amounts_to_base` take it
    like a model instance)."""

    def __init__(self, **values):
        self.__dict__.update(values)


class FastTable:
    def __init__(self, model: type[models.Model], *, batch_size: int, parents: tuple["FastTable", ...] = ()):
        self.model = model
        self.batch_size = batch_size
        # Tables whose rows this one references: always written first.
        self.parents = parents
        self.written = 0
        now = timezone.now()
        fields = [field for field in model._meta.concrete_fields if not field.generated]
        self._spec = []
        for field in fields:
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                default = now
            elif field.has_default():
                default = field.get_default()
            elif field.null or field.primary_key:
                default = None
            elif field.blank and field.empty_strings_allowed:
                default = ""
            else:
                default = _REQUIRED
            self._spec.append((field.attname, default))
        self._required = [name for name, default in self._spec if default is _REQUIRED]
        self._defaults = {name: default for name, default in self._spec}
        self._row = itemgetter(*[name for name, _ in self._spec])
        quote = connection.ops.quote_name
        self._table = quote(model._meta.db_table)
        self._columns = ", ".join(quote(field.column) for field in fields)
        self._adapters = [] if connection.vendor == "postgresql" else [
            (index, _sqlite_adapter(field)) for index, field in enumerate(fields) if _sqlite_adapter(field)
        ]
        self._rows: list[tuple] = []
        self._next_id = (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1

    def allocate_id(self) -> int:
        allocated = self._next_id
        self._next_id += 1
        return allocated

    def add(self, values: dict) -> None:
        if self.written == 0 and not self._rows:
            missing = [name for name in self._required if name not in values]
            if missing:
                raise KeyError(f"{self.model.__name__} needs {', '.join(missing)}")
        row = self._defaults.copy()
        row.update(values)
        self._rows.append(self._row(row))
        if len(self._rows) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        for parent in self.parents:
            parent.flush()
        rows, self._rows = self._rows, []
        if not rows:
            return
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {self._table} ({self._columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                if self._adapters:
                    rows = [self._adapt(row) for row in rows]
                placeholders = ", ".join(["%s"] * len(self._spec))
                cursor.executemany(f"INSERT INTO {self._table} ({self._columns}) VALUES ({placeholders})", rows)
        self.written += len(rows)

    def _adapt(self, row: tuple) -> tuple:
        values = list(row)
        for index, adapter in self._adapters:
            values[index] = adapter(values[index])
        return tuple(values)

    def close(self) -> None:
        """Writes what is left and moves the table's id sequence past the ids used."""
        self.flush()
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [self.model]):
                cursor.execute(sql)


def analyze(*tables: type[models.Model]) -> None:
    """Fresh statistics after a bulk load, so the rollup queries get a sensible plan."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in tables:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def _sqlite_adapter(field):
    """Conversion the SQLite backend applies to a value (what bulk_create would do)."""
    if isinstance(field, models.DateTimeField):
        return connection.ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return connection.ops.adapt_datefield_value
    passthrough = models.DecimalField | models.IntegerField | models.CharField | models.BooleanField | models.ForeignKey
    if isinstance(field, passthrough):
        return None
    return lambda value: field.get_db_prep_save(value, connection)

