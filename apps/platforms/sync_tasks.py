"""Celery tasks for collection: thin wrappers over apps.platforms.collection. Idempotent, acks_late."""
from celery import shared_task

from apps.platforms import collection


@shared_task(acks_late=True, reject_on_worker_lost=True, name="platforms.sync_shop")
def sync_shop(shop_id: int, kind: str, run_id: int | None = None) -> int:
    """Runs the given run, or starts one (beat schedules call it without a run id)."""
    if run_id is None:
        from apps.platforms.models import Shop

        shop = Shop.objects.select_related("platform").get(pk=shop_id)
        if not shop.is_active:
            return 0
        run, created = collection.collection_run_start(shop=shop, kind=kind)
        return run.pk  # the run itself is executed by the task queued on commit
    return collection.collection_run_execute(run_id=run_id).pk


@shared_task(name="platforms.reap_stale_runs")
def reap_stale_runs() -> list[int]:
    return collection.collection_runs_reap()
