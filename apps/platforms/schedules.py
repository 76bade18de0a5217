"""Each shop's collection schedules live in django-celery-beat (editable in Admin)."""
import json

from django.db import transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from apps.platforms.models import CollectionRun, Shop

# Minutes between runs, per kind, for a new shop; administrators change them in Admin.
DEFAULT_EVERY_MINUTES = {
    CollectionRun.Kind.ORDERS: 15,
    CollectionRun.Kind.PRODUCTS: 24 * 60,
    CollectionRun.Kind.INVENTORY: 60,
}


def schedule_name(shop: Shop, kind: str) -> str:
    return f"sync {shop.code} {kind}"


@transaction.atomic
def shop_schedules_ensure(*, shop: Shop) -> list[PeriodicTask]:
    """Creates the shop's missing schedules (existing ones, maybe edited, are kept); they run only
    while the shop is active and can collect (a connector for its platform and an API address)."""
    from apps.platforms.connectors import connector_class

    can_collect = shop.is_active and bool(shop.api_base_url) and connector_class(shop.platform.code) is not None
    tasks = []
    for kind, minutes in DEFAULT_EVERY_MINUTES.items():
        interval, _ = IntervalSchedule.objects.get_or_create(every=minutes, period=IntervalSchedule.MINUTES)
        task, created = PeriodicTask.objects.get_or_create(
            name=schedule_name(shop, kind),
            defaults={"task": "platforms.sync_shop", "interval": interval, "args": json.dumps([shop.pk, kind]),
                      "enabled": can_collect},
        )
        if not created and task.enabled != can_collect:
            task.enabled = can_collect
            task.save(update_fields=["enabled"])
        tasks.append(task)
    return tasks
