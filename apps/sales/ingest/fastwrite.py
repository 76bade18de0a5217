"""How the ingest writes the rows it has decided on. On PostgreSQL: COPY, with ids taken from the
table's sequence beforehand when the caller needs them; elsewhere the ORM's bulk statements. Only the
writing differs; every decision (what is new, what changed) is the upsert's, made once for both.

Rows are tuples of database-ready values in the order of the `fields` (attnames) passed. Fields a row
does not name get what `bulk_create` would give them: the model's default, `now` for auto_now(_add).
Every write runs on Django's connection, inside the caller's transaction; the database constraints
(uniques, checks, foreign keys) check COPY rows exactly as they check INSERTs."""
import time
from collections.abc import Iterator, Sequence

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Lookup, Model
from django.utils import timezone

# The ORM writer is the reference; tests run the upsert with each writer. "auto" picks COPY on PostgreSQL.
WRITER_SETTING = "SALES_INGEST_WRITER"  # "auto" | "orm"


# Field types whose values `str()` writes as COPY text PostgreSQL reads back as the same value
# (numbers, Decimal, aware/naive datetimes, dates, booleans, text once escaped). Other types (JSON,
# arrays, binary, UUID, floats) go through psycopg's own per-value adaptation.
_PLAIN_TYPES = frozenset({
    "AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField", "SmallIntegerField",
    "PositiveIntegerField", "PositiveBigIntegerField", "PositiveSmallIntegerField", "DecimalField",
    "BooleanField", "DateField", "DateTimeField", "CharField", "TextField", "SlugField", "EmailField", "URLField",
})
_NULL = "\\N"
# COPY text format: a backslash, tab, newline or carriage return inside a value is escaped.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
# Rows sent to the server per write: a few hundred KB of text.
_ROWS_PER_WRITE = 2000


def _plain(field) -> bool:
    target = field.target_field if field.is_relation else field
    return target.get_internal_type() in _PLAIN_TYPES


def _copy_value(value) -> str:
    if value is None:
        return _NULL
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    return str(value)


def _copy_lines(rows, width: int, tail: str | None, per_row) -> Iterator[str]:
    """COPY text lines of `rows` (each `width` values), followed by the filler columns: `tail`
    (formatted once) or, when some default is computed per row, `per_row()`'s values."""
    null = _NULL
    for row in rows:
        line = "\t".join([null if value is None else str(value) for value in row])
        # A text value with a tab, newline, carriage return or backslash needs escaping: rare, and
        # found in the joined line at C speed (a tab inside a value shows as one tab too many, a
        # backslash as one more than the NULLs' `\N`).
        if line.count("\\") != row.count(None) or "\n" in line or "\r" in line or line.count("\t") != width - 1:
            line = "\t".join(map(_copy_value, row))
        yield line + (tail if tail is not None else "\t" + "\t".join(map(_copy_value, per_row())))


def _auto_now(field) -> bool:
    return bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))


class OrmWriter:
    """bulk_create / bulk_update: the portable writer (SQLite, and the reference on PostgreSQL)."""

    batch_size = 500

    def insert(self, model: type[Model], fields: Sequence[str], rows: list[tuple], *,
               return_ids: bool = False) -> list[int] | None:
        if not rows:
            return [] if return_ids else None
        objs = [model(**dict(zip(fields, row))) for row in rows]
        model.objects.bulk_create(objs, batch_size=self.batch_size)
        return [obj.pk for obj in objs] if return_ids else None

    def update(self, model: type[Model], fields: Sequence[str], rows: list[tuple]) -> None:
        """rows: (pk, *values in `fields` order); auto_now fields are set to now."""
        if not rows:
            return
        now = timezone.now()
        stamps = [f.attname for f in model._meta.concrete_fields if getattr(f, "auto_now", False)
                  and f.attname not in fields]
        objs = []
        for pk, *values in rows:
            obj = model(pk=pk, **dict(zip(fields, values)))
            for name in stamps:
                setattr(obj, name, now)
            objs.append(obj)
        model.objects.bulk_update(objs, [*fields, *stamps], batch_size=self.batch_size)


class CopyWriter:
    """PostgreSQL: COPY … FROM STDIN for inserts, one pipelined executemany for updates."""

    def _log(self, sql: str, started: float) -> None:
        # COPY bypasses Django's cursor wrapper: log it like a query so query counts stay honest.
        if connection.queries_logged:
            connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})

    def _complete(self, model: type[Model], fields: Sequence[str], with_pk: bool):
        """All concrete columns to write and, per row, the filler values for those not in `fields`."""
        meta = model._meta
        given = set(fields)
        now = timezone.now()
        columns = [meta.pk.column] if with_pk else []
        columns += [meta.get_field(name).column for name in fields]
        constant, per_row = [], []
        for field in meta.concrete_fields:
            if field.primary_key or field.attname in given or getattr(field, "generated", False):
                continue
            columns.append(field.column)
            if _auto_now(field):
                constant.append(now)
            elif field.has_default() and callable(field.default):
                constant.append(None)
                per_row.append((len(constant) - 1, field.get_default))
            else:
                constant.append(field.get_default())
        return columns, constant, per_row

    def insert(self, model: type[Model], fields: Sequence[str], rows: list[tuple], *,
               return_ids: bool = False) -> list[int] | None:
        if not rows:
            return [] if return_ids else None
        quote = connection.ops.quote_name
        table = model._meta.db_table
        columns, filler, per_row = self._complete(model, fields, with_pk=return_ids)
        sql = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
        started = time.monotonic()
        ids = None
        with connection.cursor() as cursor:
            if return_ids:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [quote(table), model._meta.pk.column, len(rows)],
                )
                ids = [pk for (pk,) in cursor.fetchall()]
                if ids[0] is None:
                    raise ValueError(f"{table}.{model._meta.pk.column} has no sequence to take ids from")
            raw = cursor.cursor  # the psycopg cursor behind Django's wrapper
            if per_row:
                def fill():
                    values = list(filler)
                    for index, make in per_row:
                        values[index] = make()
                    return tuple(values)
            else:
                tail = tuple(filler)
                fill = lambda: tail  # noqa: E731
            meta = model._meta
            if all(_plain(meta.get_field(name)) for name in fields) and all(
                _plain(field) for field in meta.concrete_fields if field.column in columns
            ):
                # Formatted here: one str() per value and the filler columns formatted once, where
                # psycopg's write_row adapts every value of every row (a third more time).
                full = rows if ids is None else [(pk, *row) for pk, row in zip(ids, rows)]
                tail = None if per_row else ("\t" + "\t".join(map(_copy_value, filler)) if filler else "")
                lines = _copy_lines(full, len(fields) + (ids is not None), tail, fill)
                with connection.wrap_database_errors, raw.copy(sql) as copy:
                    batch: list[str] = []
                    for line in lines:
                        batch.append(line)
                        if len(batch) >= _ROWS_PER_WRITE:
                            copy.write("\n".join(batch) + "\n")
                            batch.clear()
                    if batch:
                        copy.write("\n".join(batch) + "\n")
                self._log(f"{sql} -- {len(rows)} rows", started)
                return ids
            with connection.wrap_database_errors, raw.copy(sql) as copy:
                write = copy.write_row
                if ids is None:
                    for row in rows:
                        write(row + fill())
                else:
                    for pk, row in zip(ids, rows):
                        write((pk, *row, *fill()))
        self._log(f"{sql} -- {len(rows)} rows", started)
        return ids

    def update(self, model: type[Model], fields: Sequence[str], rows: list[tuple]) -> None:
        """rows: (pk, *values in `fields` order); auto_now fields are set to now."""
        if not rows:
            return
        quote = connection.ops.quote_name
        meta = model._meta
        stamps = [f for f in meta.concrete_fields if getattr(f, "auto_now", False) and f.attname not in fields]
        assignments = [f"{quote(meta.get_field(name).column)} = %s" for name in fields]
        assignments += [f"{quote(f.column)} = %s" for f in stamps]
        sql = f"UPDATE {quote(meta.db_table)} SET {', '.join(assignments)} WHERE {quote(meta.pk.column)} = %s"
        now = (timezone.now(),) * len(stamps)
        with connection.cursor() as cursor:
            cursor.executemany(sql, [(*values, *now, pk) for pk, *values in rows])


class ValuesIn(Lookup):
    """`lhs IN (values)` for a page's worth of plain values (ids, codes), used as
    `.filter(ValuesIn(F("field"), values))`. On PostgreSQL the values travel as one array parameter
    (`= ANY(%s::type[])`): the SQL text stays short and the ORM does no per-value work. Elsewhere: IN."""

    lookup_name = "values_in"  # not registered on any field: used directly
    prepare_rhs = False

    def get_prep_lookup(self):
        return list(self.rhs)

    def as_sql(self, compiler, connection):
        if not self.rhs:
            raise EmptyResultSet
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} IN ({', '.join(['%s'] * len(self.rhs))})", (*lhs_params, *self.rhs)

    def as_postgresql(self, compiler, connection):
        if not self.rhs:
            raise EmptyResultSet
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        db_type = field.rel_db_type(connection) if field.is_relation else field.db_type(connection)
        return f"{lhs} = ANY(%s::{db_type}[])", (*lhs_params, self.rhs)


def deferred_checks_run(*, keep_deferred: Sequence = ()) -> None:
    """Runs now the foreign-key checks the transaction has deferred so far (PostgreSQL), instead of
    all of them at its commit. A long import calls it after each chunk: the checks of one chunk then
    run while the next is parsed, not in one block at the end. Nothing is checked less: a violation
    raises IntegrityError here instead of at the commit.

    `keep_deferred`: foreign keys (model fields) whose checks stay for the commit, because a row they
    point at may belong to a transaction that commits before this one but has not yet (a collection
    page's buyers, created by the page before it).

    `SET CONSTRAINTS ... DEFERRED` afterwards restores the transaction's starting state because every
    deferrable constraint of the schema is initially deferred (Django's foreign keys; a test keeps it so)."""
    if connection.vendor != "postgresql":
        return
    names = "ALL" if not keep_deferred else _deferrable_constraints_except(tuple(keep_deferred))
    if not names:
        return
    with connection.cursor() as cursor:
        cursor.execute(f"SET CONSTRAINTS {names} IMMEDIATE")
        cursor.execute(f"SET CONSTRAINTS {names} DEFERRED")


_DEFERRABLE_EXCEPT: dict[tuple, str] = {}


def _deferrable_constraints_except(fields: tuple) -> str:
    """The quoted names of the schema's deferrable constraints other than the foreign keys of
    `fields`, read once per process (the schema changes only with a migration and a restart)."""
    key = (connection.settings_dict["NAME"], fields)
    if key not in _DEFERRABLE_EXCEPT:
        kept = {(field.model._meta.db_table, field.column) for field in fields}
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.conrelid::regclass::text, c.conname, array_agg(a.attname::text)"
                " FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)"
                " WHERE c.condeferrable AND c.connamespace = current_schema()::regnamespace"
                " GROUP BY 1, 2 ORDER BY 2"
            )
            names = [
                connection.ops.quote_name(name) for table, name, columns in cursor.fetchall()
                if not (len(columns) == 1 and (table.strip('"'), columns[0]) in kept)
            ]
        _DEFERRABLE_EXCEPT[key] = ", ".join(names)
    return _DEFERRABLE_EXCEPT[key]


def row_writer() -> OrmWriter | CopyWriter:
    """The writer for the default connection: COPY on PostgreSQL unless the setting asks for the ORM."""
    choice = getattr(settings, WRITER_SETTING, "auto")
    if choice not in ("auto", "orm"):
        raise ValueError(f"{WRITER_SETTING} must be 'auto' or 'orm', not {choice!r}")
    if choice == "auto" and connection.vendor == "postgresql":
        return CopyWriter()
    return OrmWriter()
