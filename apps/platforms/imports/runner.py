"""Running an import job: the whole file is validated, and written all or nothing.

- Every row is read and checked; errors carry the row number (header = row 1), the column and a
  Chinese reason. A file with any bad row writes nothing and the job ends `rejected`.
- Rows are written a chunk at a time while no error has been seen, inside one transaction that
  is rolled back at the end when an error turned up later, or when the job is a dry run (which so
  reports exactly what would be created, updated or left unchanged).
- Re-importing a file changes nothing: every kind upserts by its natural key.
- Progress (rows read) is written while the transaction is open through a second connection on
  PostgreSQL; elsewhere (SQLite allows one writer) with the outcome.
- Order files are read and checked a chunk ahead in a thread (`Importer.reads_ahead`): while the
  database stores one chunk, the next is parsed. The thread never touches the database; the
  transaction, every query and every decision stay on the runner's thread.
"""
import datetime as dt
import logging
import queue
import threading
import time

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Q
from django.utils import timezone

from apps.platforms.models import ImportJob

from .amazon_orders import AmazonOrdersImporter
from .base import Errors, Importer, RowsNotGrouped
from .listings import ListingsImporter
from .products import ProductsImporter
from .readers import FileUnreadable, open_table
from .shopify_orders import ShopifyOrdersImporter
from .stock import StockImporter

logger = logging.getLogger(__name__)
Kind = ImportJob.Kind
Status = ImportJob.Status

IMPORTERS: dict[str, type[Importer]] = {
    Kind.SHOPIFY_ORDERS: ShopifyOrdersImporter,
    Kind.AMAZON_ORDERS: AmazonOrdersImporter,
    Kind.PRODUCTS: ProductsImporter,
    Kind.LISTINGS: ListingsImporter,
    Kind.STOCK: StockImporter,
}

# A running job whose row has not moved for this long lost its worker (progress moves it every few
# seconds on PostgreSQL; on SQLite it moves only at the end, so the margin is wide).
STALE_AFTER = dt.timedelta(minutes=30)

_RESULT_FIELDS = [
    "status", "total_rows", "processed_rows", "created_count", "updated_count", "unchanged_count",
    "rejected_count", "errors", "finished_at", "updated_at",
]


class Progress:
    """Rows read so far, written every few thousand rows or seconds."""

    every_rows = 5000
    every_seconds = 2.0

    def __init__(self, job: ImportJob):
        self.job = job
        self.side = None
        self.last_rows = 0
        self.last_time = time.monotonic()
        # Only PostgreSQL takes a second writer while the import's transaction is open; inside an
        # enclosing transaction (tests) the row would be locked against ourselves.
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            self.side = connections.create_connection(DEFAULT_DB_ALIAS)

    def start(self, *, total: int) -> None:
        self.job.total_rows = total
        self.job.processed_rows = 0
        ImportJob.objects.filter(pk=self.job.pk).update(total_rows=total, processed_rows=0, updated_at=timezone.now())

    def tick(self, rows: int) -> None:
        if self.side is None or rows - self.last_rows < self.every_rows:
            return
        now = time.monotonic()
        if now - self.last_time < self.every_seconds and rows - self.last_rows < 10 * self.every_rows:
            return
        self.last_rows, self.last_time = rows, now
        table = connection.ops.quote_name(ImportJob._meta.db_table)
        with self.side.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET processed_rows = %s, total_rows = GREATEST(total_rows, %s), updated_at = %s "
                "WHERE id = %s",
                [rows, rows, timezone.now(), self.job.pk],
            )

    def close(self) -> None:
        if self.side is not None:
            self.side.close()
            self.side = None


def import_job_claim(*, job_id: int) -> bool:
    """Marks a queued job (or a running one whose worker went silent) as running; False when
    another worker has it or it has finished, so a task delivered twice runs it once."""
    now = timezone.now()
    return bool(
        ImportJob.objects.filter(pk=job_id)
        .filter(Q(status=Status.QUEUED) | Q(status=Status.RUNNING, updated_at__lt=now - STALE_AFTER))
        .update(status=Status.RUNNING, started_at=now, finished_at=None, updated_at=now)
    )


def import_jobs_stale() -> list[int]:
    """Jobs to queue again: queued long ago (message lost) or running without a sign of life."""
    cutoff = timezone.now() - STALE_AFTER
    return list(
        ImportJob.objects.filter(status__in=[Status.QUEUED, Status.RUNNING], updated_at__lt=cutoff)
        .values_list("pk", flat=True)
    )


def import_job_run(*, job_id: int) -> ImportJob:
    """Runs one import job to its outcome (succeeded, rejected or failed); a job another worker
    holds, or one that has finished, is left alone."""
    claimed = import_job_claim(job_id=job_id)
    job = ImportJob.objects.select_related("shop", "created_by").get(pk=job_id)
    if not claimed:
        return job
    progress = Progress(job)
    try:
        errors, counts, rows = _import(job, progress)
    except Exception as exc:
        logger.exception("import job %s failed", job.pk)
        job.status = Status.FAILED
        job.errors = [{"row": 0, "field": "", "message": f"导入时发生内部错误（{type(exc).__name__}），未写入任何数据。"}]
        job.created_count = job.updated_count = job.unchanged_count = 0
        job.finished_at = timezone.now()
        job.save(update_fields=_RESULT_FIELDS)
        return job
    finally:
        progress.close()

    job.total_rows = job.processed_rows = rows
    if errors:
        job.status = Status.REJECTED
        job.created_count = job.updated_count = job.unchanged_count = 0
        job.rejected_count = len(errors.bad_rows)
    else:
        job.status = Status.SUCCEEDED
        job.created_count, job.updated_count, job.unchanged_count = counts.created, counts.updated, counts.unchanged
        job.rejected_count = 0
    job.errors = errors.as_list()
    job.finished_at = timezone.now()
    job.save(update_fields=_RESULT_FIELDS)
    return job


def _import(job: ImportJob, progress: Progress):
    try:
        return _attempt(job, progress, streaming=True)
    except RowsNotGrouped as exc:
        # An order's rows are spread over the file: read it again, holding every order until the end.
        logger.info("import job %s: rows of order %s are not together; reading the file whole", job.pk, exc)
        return _attempt(job, progress, streaming=False)


def _attempt(job: ImportJob, progress: Progress, *, streaming: bool):
    errors = Errors()
    importer_class = IMPORTERS[job.kind]
    if importer_class.requires_shop and job.shop is None:
        errors.add(0, "shop", "导入订单文件必须指定店铺（店铺可能已被删除）。")
        return errors, None, 0
    with job.file.open("rb") as fileobj:
        try:
            table = open_table(fileobj, filename=job.original_filename, columns=importer_class.columns)
        except FileUnreadable as exc:
            errors.add(exc.error.row, exc.error.field, exc.error.message)
            return errors, None, 0
        with table:
            errors.extend(table.header_errors())
            if errors:
                return errors, None, 0
            progress.start(total=table.estimated_rows)
            importer = importer_class(job=job, errors=errors, streaming=streaming)
            importer.start(table)
            try:
                with transaction.atomic():
                    if importer.reads_ahead:
                        _feed_reading_ahead(importer, table, errors, progress)
                    else:
                        for row, cells in table:
                            importer.feed(row, cells)
                            if importer.ready():
                                importer.flush(write=not errors)
                            progress.tick(table.rows_read)
                        importer.flush(write=not errors, final=True)
                    if table.rows_read == 0:
                        errors.add(table.header_row, "", "文件中没有数据行。")
                    if errors or job.dry_run:
                        transaction.set_rollback(True)
            except FileUnreadable as exc:  # raised mid-file: the transaction is already rolled back
                errors.add(exc.error.row, exc.error.field, exc.error.message)
            return errors, importer.counts, table.rows_read


# Chunks read ahead and waiting to be written: two keep the database busy; memory stays a few chunks.
_CHUNKS_AHEAD = 2


def _feed_reading_ahead(importer: Importer, table, errors: Errors, progress: Progress) -> None:
    """Rows are fed and chunks cut in a reading thread; this thread writes them in file order.
    An exception of the reader (a file unreadable mid-way, rows not grouped) is raised here."""
    chunks: queue.Queue = queue.Queue(maxsize=_CHUNKS_AHEAD)
    stop = threading.Event()

    def hand_over(item) -> bool:
        while not stop.is_set():
            try:
                chunks.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for row, cells in table:
                importer.feed(row, cells)
                if importer.ready() and not hand_over(("chunk", importer.take_chunk(final=False))):
                    return
            hand_over(("last", importer.take_chunk(final=True)))
        except BaseException as exc:  # handed to the writing thread, which raises it
            hand_over(("raise", exc))

    reader = threading.Thread(target=read, name=f"import-{importer.job.pk}-reader", daemon=True)
    reader.start()
    try:
        while True:
            kind, payload = chunks.get()
            if kind == "raise":
                raise payload
            importer.store_chunk(payload, write=not errors, final=kind == "last")
            progress.tick(table.rows_read)
            if kind == "last":
                return
    finally:
        stop.set()
        reader.join()
