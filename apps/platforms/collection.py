"""Collection runs: one shop, one kind, page by page, each page stored together with the
checkpoint that follows it, so a run killed after page k resumes at page k+1 and stores every
order exactly once. Order pages are fetched and cleaned one page ahead, in a thread, while the
previous page is stored; on PostgreSQL two pages are stored at once, committing in order
(OrderPagePipeline)."""
import asyncio
import datetime as dt
import logging
import queue
import threading
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.inventory.models import Warehouse
from apps.inventory.services import stock_platform_sync
from apps.platforms.connectors import connector_class
from apps.platforms.connectors.base import DataCollector, Page, ShopContext
from apps.platforms.connectors.errors import AuthError, CleaningError, ConnectorError
from apps.platforms.models import CollectionRun, Listing, QuarantinedRecord, Shop
from apps.sales.ingest import OrderData, UpsertResult, orders_upsert
from apps.sales.ingest.statistics import GrowthWatch
from apps.sales.ingest.types import BatchTurn

logger = logging.getLogger("erp.collection")
Status = CollectionRun.Status
ACTIVE = (Status.QUEUED, Status.RUNNING)


def shop_context(shop: Shop) -> ShopContext:
    return ShopContext(
        shop_id=shop.pk, base_url=shop.api_base_url, credentials=dict(shop.credentials), marketplace=shop.marketplace,
        currency=shop.currency_id, timezone=shop.timezone,
        request_budget=settings.COLLECTION_REQUEST_BUDGET, fee_rate=shop.platform_fee_rate,
    )


def connector_for(shop: Shop) -> DataCollector:
    cls = connector_class(shop.platform.code)
    if cls is None:
        raise ConnectorError(f"平台 {shop.platform.code} 暂无采集连接器。")
    if not shop.api_base_url:
        raise ConnectorError("店铺未配置 API 地址。")
    return cls(shop_context(shop))


def collection_run_start(*, shop: Shop, kind: str, user=None) -> tuple[CollectionRun, bool]:
    """Queues a run, or returns the shop's active run of that kind (the lock is a database
    constraint). Returns (run, created)."""
    from apps.platforms.sync_tasks import sync_shop

    try:
        with transaction.atomic():
            run = CollectionRun.objects.create(shop=shop, kind=kind, status=Status.QUEUED, triggered_by=user)
    except IntegrityError:
        return CollectionRun.objects.get(shop=shop, kind=kind, status__in=ACTIVE), False
    transaction.on_commit(lambda: sync_shop.delay(shop.pk, kind, run.pk))
    return run, True


def _window(run: CollectionRun) -> tuple[dt.datetime, dt.datetime, dict | None]:
    """The run's own window if it has one (a resumed run), else: resume an unfinished earlier run
    of the same shop and kind, else from the last success minus an overlap to now."""
    if run.window_start and run.window_end:
        return run.window_start, run.window_end, run.checkpoint or None
    earlier = (
        CollectionRun.objects.filter(shop_id=run.shop_id, kind=run.kind)
        .exclude(pk=run.pk)
        .order_by("-created_at", "-pk")
        .first()
    )
    # A failed run is resumed only if it got anywhere: a checkpoint the platform keeps refusing
    # (an expired page token) must not fail every later run; those start afresh instead.
    if earlier and earlier.status == Status.FAILED and earlier.checkpoint and earlier.window_start and earlier.pages:
        return earlier.window_start, earlier.window_end, earlier.checkpoint
    last_success = (
        CollectionRun.objects.filter(shop_id=run.shop_id, kind=run.kind, status=Status.SUCCEEDED)
        .order_by("-window_end")
        .values_list("window_end", flat=True)
        .first()
    )
    # The window ends a little in the past: with the platform's clock behind ours, an order modified
    # during the run could otherwise stay inside the window and reshuffle offset pages. Those last
    # seconds belong to the next run's window (which starts at this end minus the overlap).
    until = timezone.now() - dt.timedelta(seconds=settings.COLLECTION_WINDOW_LAG_SECONDS)
    if last_success:
        since = last_success - dt.timedelta(minutes=settings.COLLECTION_OVERLAP_MINUTES)
    else:
        since = until - dt.timedelta(days=settings.COLLECTION_INITIAL_DAYS)
    return since, until, None


def _fail(run: CollectionRun, message: str) -> None:
    CollectionRun.objects.filter(pk=run.pk).update(
        status=Status.FAILED, error=message[:4000], finished_at=timezone.now(), heartbeat_at=timezone.now()
    )


@dataclass
class CleanedPage:
    """One page of orders as the platform sent them and as cleaning left them."""

    records: list[dict]
    orders: list[OrderData]
    rejected: list[tuple[dict, str]]  # (raw record, reason) of records cleaning refused
    next_checkpoint: dict | None


def clean_order_page(connector: DataCollector, page: Page) -> CleanedPage:
    orders, rejected = [], []
    for record in page.records:
        try:
            orders.append(connector.normalize_order(record))
        except CleaningError as exc:
            rejected.append((record, str(exc)))
    return CleanedPage(records=page.records, orders=orders, rejected=rejected, next_checkpoint=page.next_checkpoint)


@transaction.atomic
def _store_order_page(run: CollectionRun, shop: Shop, connector: DataCollector, page: CleanedPage,
                      turn: BatchTurn | None = None) -> UpsertResult:
    quarantined = [
        QuarantinedRecord(run=run, shop=shop, kind=run.kind, reason=reason, payload=record,
                          external_id=_record_id(record)[:128])
        for record, reason in page.rejected
    ]
    result = orders_upsert(shop=shop, orders=page.orders, turn=turn)
    if turn is not None:
        turn.shared()  # the run's progress and checkpoint follow the previous page's
    for data, reason in result.rejected:
        raw = next((r for r in page.records if _record_id(r) == data.platform_order_id),
                   {"platform_order_id": data.platform_order_id})
        quarantined.append(QuarantinedRecord(run=run, shop=shop, kind=run.kind, reason=reason, payload=raw,
                                             external_id=data.platform_order_id[:128]))
    QuarantinedRecord.objects.bulk_create(quarantined)
    _progress(run, connector, seen=len(page.records), created=result.created, updated=result.updated,
              quarantined=len(quarantined), checkpoint=page.next_checkpoint)
    return result


def _record_id(record: dict) -> str:
    for key in ("id", "order_sn", "AmazonOrderId", "orderId", "number"):
        if record.get(key) not in (None, ""):
            return str(record[key])
    return ""


def _progress(run, connector, *, seen=0, created=0, updated=0, quarantined=0, checkpoint=None) -> None:
    run.pages += 1
    run.records_seen += seen
    run.records_created += created
    run.records_updated += updated
    run.records_quarantined += quarantined
    run.checkpoint = checkpoint or {}
    run.heartbeat_at = timezone.now()
    run.save(update_fields=["pages", "records_seen", "records_created", "records_updated", "records_quarantined",
                            "checkpoint", "heartbeat_at", "updated_at"])
    credentials = connector.take_updated_credentials()
    if credentials:
        # update() runs the field's get_prep_value, which encrypts: pass the dict, not ciphertext
        Shop.objects.filter(pk=run.shop_id).update(credentials=credentials)


@transaction.atomic
def _store_listings(run: CollectionRun, shop: Shop, connector: DataCollector, records) -> None:
    existing = {item.platform_sku: item for item in Listing.objects.filter(shop=shop)}
    created, updated = [], []
    for record in records:
        listing = existing.get(record.platform_sku)
        values = {"title": (record.title or "")[:500], "platform_item_id": record.platform_item_id or "",
                  "platform_stock": record.platform_stock}
        if record.price is not None:
            values["price"] = record.price
        if listing is None:
            created.append(Listing(shop=shop, platform_sku=record.platform_sku, currency_id=record.currency or shop.currency_id,
                                   **values))
        elif any(getattr(listing, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(listing, k, v)
            updated.append(listing)
    Listing.objects.bulk_create(created, ignore_conflicts=True)
    Listing.objects.bulk_update(updated, ["title", "platform_item_id", "platform_stock", "price", "updated_at"])
    _progress(run, connector, seen=len(records), created=len(created), updated=len(updated))


@transaction.atomic
def _store_stock(run: CollectionRun, shop: Shop, connector: DataCollector, records) -> None:
    """Platform stock updates the listings; for a platform-held warehouse (FBA) it also reconciles
    our ledger through platform-sync movements."""
    listings = {item.platform_sku: item for item in Listing.objects.filter(shop=shop)}
    warehouse = shop.default_warehouse if shop.default_warehouse and shop.default_warehouse.kind == Warehouse.Kind.FBA else None
    changed = updated = 0
    for record in records:
        listing = listings.get(record.platform_sku)
        if listing is None:
            continue
        if listing.platform_stock != record.quantity:
            listing.platform_stock = record.quantity
            listing.save(update_fields=["platform_stock", "updated_at"])
            updated += 1
        if warehouse is not None and listing.product_id:
            movement = stock_platform_sync(product=listing.product, warehouse=warehouse, platform_on_hand=record.quantity,
                                           reference=f"SYNC-{run.pk}")
            changed += movement is not None
    _progress(run, connector, seen=len(records), updated=updated + changed)


def collection_run_execute(*, run_id: int) -> CollectionRun:
    """Runs (or resumes) a queued run to the end. Safe to call twice: a finished run is left alone."""
    with transaction.atomic():
        run = (
            CollectionRun.objects.select_for_update(of=("self",))
            .select_related("shop__platform", "shop__default_warehouse")
            .get(pk=run_id)
        )
        if run.status not in ACTIVE:
            return run
        since, until, checkpoint = _window(run)
        run.status, run.window_start, run.window_end = Status.RUNNING, since, until
        run.checkpoint = checkpoint or {}
        run.started_at = run.started_at or timezone.now()
        run.heartbeat_at = timezone.now()
        run.error = ""
        run.save()
    shop = run.shop
    connector = None
    try:
        connector = connector_for(shop)
        if run.kind == CollectionRun.Kind.ORDERS:
            _collect_orders(run, shop, connector, since, until, checkpoint)
        elif run.kind == CollectionRun.Kind.PRODUCTS:
            _store_listings(run, shop, connector, asyncio.run(connector.collect_products()))
        else:
            _store_stock(run, shop, connector, asyncio.run(connector.collect_inventory()))
    except AuthError as exc:
        Shop.objects.filter(pk=shop.pk).update(auth_status=Shop.AuthStatus.NEEDS_REAUTH)
        _fail(run, f"授权失败，店铺需要重新授权：{exc}")
    except ConnectorError as exc:
        _fail(run, str(exc))
    except Exception as exc:  # an unexpected failure still ends the run with its reason
        logger.exception("collection run %s failed", run.pk)
        _fail(run, f"{exc.__class__.__name__}: {exc}")
    else:
        CollectionRun.objects.filter(pk=run.pk).update(
            status=Status.SUCCEEDED, finished_at=timezone.now(), checkpoint={}, heartbeat_at=timezone.now()
        )
        if shop.auth_status != Shop.AuthStatus.OK:
            Shop.objects.filter(pk=shop.pk).update(auth_status=Shop.AuthStatus.OK)
    _keep_refreshed_credentials(shop.pk, connector)
    run.refresh_from_db()
    return run


def _keep_refreshed_credentials(shop_id: int, connector: DataCollector | None) -> None:
    """Tokens refreshed before a run (or a connection check) failed are saved all the same: some
    platforms (Shopee) rotate the refresh token, so the old one no longer works."""
    credentials = connector.take_updated_credentials() if connector is not None else None
    if credentials:
        Shop.objects.filter(pk=shop_id).update(credentials=credentials)


def _collect_orders(run, shop, connector, since, until, checkpoint) -> None:
    growth = GrowthWatch()
    with OrderPagePrefetcher(connector, since, until, checkpoint) as pages:
        if not OrderPagePipeline.usable():
            while (page := pages.next_page()) is not None:
                growth.written(_store_order_page(run, shop, connector, page).created)
            return
        with OrderPagePipeline(run, shop, connector, growth) as pipeline:
            while (page := pages.next_page()) is not None:
                pipeline.store(page)


class _PreviousPageFailed(Exception):
    """The page before failed: this one is rolled back (the run fails with that page's error)."""


class _PageSlot:
    """One page on its way through the pipeline, as the page after it sees it."""

    def __init__(self, page: CleanedPage):
        self.page = page
        self.order_ids = {order.platform_order_id for order in page.orders}
        self.customers: dict = {}
        self.counted: dict = {}
        self.error: BaseException | None = None
        self._resolved = threading.Event()  # its buyers are known (or it has ended)
        self._ended = threading.Event()  # committed, or failed (`error`)

    def resolved(self, customers: dict, counted: dict) -> None:
        self.customers, self.counted = customers, counted
        self._resolved.set()

    def end(self, error: BaseException | None = None) -> None:
        self.error = error
        self._resolved.set()
        self._ended.set()

    def wait_until_ended(self) -> None:
        """Waits for the page's end, whatever it was (the caller looks at `error`)."""
        self._ended.wait()

    def wait_resolved(self) -> None:
        self._resolved.wait()
        if self.error is not None:
            raise _PreviousPageFailed

    def wait_ended(self) -> None:
        self._ended.wait()
        if self.error is not None:
            raise _PreviousPageFailed


class OrderPagePipeline:
    """Stores order pages two at a time, each in its own transaction on its own connection, so the
    database works on page k (its writes, foreign-key checks and commit) while page k+1 is decided
    in Python. Exactly-once holds as with one page at a time:
    - pages commit in order: page k+1 takes its turn for the rows pages share (stock, rollups,
      customers' first orders, the run's progress and checkpoint) only once page k has committed,
      and if page k failed it rolls back, so the committed pages are always a prefix of the run;
    - page k+1 starts once page k has found or created its buyers, and takes those from it (some
      not committed yet: committing after page k makes that safe) instead of creating them twice;
    - a page that repeats an order of the page before waits for that page's commit first;
    - a listing both pages would create is created by the first; the second waits on its key.
    Used on PostgreSQL outside any transaction; elsewhere (SQLite, inside a caller's transaction)
    pages are stored one at a time."""

    depth = 2  # pages stored at once

    def __init__(self, run: CollectionRun, shop: Shop, connector: DataCollector, growth: GrowthWatch | None = None):
        self.run, self.shop, self.connector = run, shop, connector
        self.growth = growth or GrowthWatch()
        self._slots: list[_PageSlot] = []  # the pages not known to have ended, oldest first
        self._submitted = 0
        self._queues = [queue.SimpleQueue() for _ in range(self.depth)]
        self._threads = [
            threading.Thread(target=self._work, args=(q,), name=f"collect-store-{shop.pk}-{n}", daemon=True)
            for n, q in enumerate(self._queues)
        ]

    @staticmethod
    def usable() -> bool:
        connection = transaction.get_connection()
        return connection.vendor == "postgresql" and not connection.in_atomic_block

    def __enter__(self) -> "OrderPagePipeline":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        for q in self._queues:
            q.put(None)
        for thread in self._threads:
            thread.join()
        # A page that failed fails the run, before any error met fetching a later page.
        self._raise_first_error()

    def store(self, page: CleanedPage) -> None:
        """Hands the page to the pipeline, once fewer than `depth` pages are in it. Raises the error of
        an earlier page that failed."""
        if len(self._slots) == self.depth:
            self._slots[0].wait_until_ended()
            self._raise_first_error()
            self._slots.pop(0)
        self._raise_first_error()
        slot, previous = _PageSlot(page), (self._slots[-1] if self._slots else None)
        self._queues[self._submitted % self.depth].put((slot, previous))
        self._submitted += 1
        self._slots.append(slot)

    def _raise_first_error(self) -> None:
        for slot in self._slots:
            if slot.error is not None and not isinstance(slot.error, _PreviousPageFailed):
                raise slot.error

    def _work(self, pages: queue.SimpleQueue) -> None:
        try:
            while (item := pages.get()) is not None:
                slot, previous = item
                try:
                    result = self._store(slot, previous)
                except BaseException as exc:  # handed to the run's thread, which raises it there
                    slot.end(exc)
                else:
                    slot.end()
                    # After the end, so the next page does not wait for it; on this thread's connection.
                    self.growth.written(result.created)
        finally:
            db_connection = transaction.get_connection()
            db_connection.close()

    def _store(self, slot: _PageSlot, previous: _PageSlot | None) -> UpsertResult:
        known: dict = {}
        counted: dict = {}
        if previous is not None:
            if slot.order_ids & previous.order_ids:
                previous.wait_ended()
            else:
                previous.wait_resolved()
            known, counted = previous.customers, previous.counted
        shared = previous.wait_ended if previous is not None else (lambda: None)
        turn = BatchTurn(known_customers=known, resolved=slot.resolved, shared=shared, known_counted=counted)
        return _store_order_page(self.run, self.shop, self.connector, slot.page, turn)


class OrderPagePrefetcher:
    """Fetches and cleans order pages in a thread of its own, one page ahead: page k+1 is on its
    way while page k is stored, and no further, so a failure fetching k+1 surfaces only after page
    k and its checkpoint are stored (the next run resumes at k+1). The thread touches no database;
    leaving the block stops it after the request in flight, if any."""

    def __init__(self, connector: DataCollector, since: dt.datetime, until: dt.datetime, checkpoint: dict | None):
        self.connector = connector
        self._pages = connector.collect_orders(since, until, checkpoint)
        self._wanted = threading.Semaphore(0)  # one release per page the run asks for
        self._stopping = False
        self._results: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=f"collect-orders-{connector.shop.shop_id}",
                                        daemon=True)

    def __enter__(self) -> "OrderPagePrefetcher":
        self._thread.start()
        self._wanted.release()
        return self

    def __exit__(self, *exc) -> None:
        self._stopping = True
        self._wanted.release()
        self._thread.join()

    def next_page(self) -> CleanedPage | None:
        """The next cleaned page (None after the last), and the one after it asked for. Raises
        what fetching or cleaning raised, once the pages before it have been handed out."""
        kind, value = self._results.get()
        if kind == "error":
            raise value
        if kind == "done":
            return None
        self._wanted.release()
        return value

    def _run(self) -> None:
        try:
            asyncio.run(self._fetch())
        except BaseException as exc:  # handed to the run's thread, which raises it there
            self._results.put(("error", exc))
        else:
            self._results.put(("done", None))

    async def _fetch(self) -> None:
        try:
            while True:
                # Blocking the event loop is fine: it runs nothing but this fetch.
                self._wanted.acquire()
                if self._stopping:
                    return
                try:
                    page = await anext(self._pages)
                except StopAsyncIteration:
                    return
                self._results.put(("page", clean_order_page(self.connector, page)))
        finally:
            await self._pages.aclose()


def collection_runs_reap(*, stale_after: dt.timedelta | None = None) -> list[int]:
    """Re-queues runs whose worker died (no heartbeat for a while); they resume from their checkpoint."""
    from apps.platforms.sync_tasks import sync_shop

    stale_after = stale_after or dt.timedelta(minutes=settings.COLLECTION_STALE_MINUTES)
    cutoff = timezone.now() - stale_after
    stale = list(
        CollectionRun.objects.filter(status=Status.RUNNING, heartbeat_at__lt=cutoff).values_list("pk", "shop_id", "kind")
    )
    for pk, shop_id, kind in stale:
        CollectionRun.objects.filter(pk=pk, status=Status.RUNNING).update(status=Status.QUEUED)
        transaction.on_commit(lambda pk=pk, shop_id=shop_id, kind=kind: sync_shop.delay(shop_id, kind, pk))
    return [pk for pk, _, _ in stale]


async def _test(connector: DataCollector) -> str:
    return await connector.test_connection()


def shop_test_connection(*, shop: Shop) -> tuple[bool, str]:
    """Checks the shop's credentials against the platform; marks the shop accordingly."""
    connector = None
    try:
        connector = connector_for(shop)
        description = asyncio.run(_test(connector))
    except AuthError as exc:
        Shop.objects.filter(pk=shop.pk).update(auth_status=Shop.AuthStatus.NEEDS_REAUTH)
        return False, str(exc)
    except ConnectorError as exc:
        return False, str(exc)
    finally:
        _keep_refreshed_credentials(shop.pk, connector)
    Shop.objects.filter(pk=shop.pk).update(auth_status=Shop.AuthStatus.OK)
    return True, description
