"""The cache, the channel layer and Celery as configured: embedded defaults without REDIS_URL, Redis with it.

The suite runs twice in CI (.ci/run): once with the defaults, once with PostgreSQL and Redis, so each
side's tests run in one of the two passes."""
import asyncio
import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache

from erp.celery import app as celery_app

with_redis = pytest.mark.skipif(not settings.REDIS_URL, reason="REDIS_URL is not set")
without_redis = pytest.mark.skipif(bool(settings.REDIS_URL), reason="REDIS_URL is set")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


def group_round_trip(layer) -> dict:
    """Joins a fresh channel to a fresh group, sends to the group and receives, each step through
    async_to_sync as code in a view or a Celery task would."""
    group = unique("test-infrastructure")
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, channel)
    try:
        async_to_sync(layer.group_send)(group, {"type": "test.ping", "text": "你好"})

        async def receive():
            return await asyncio.wait_for(layer.receive(channel), timeout=5)

        return async_to_sync(receive)()
    finally:
        async_to_sync(layer.group_discard)(group, channel)


def test_the_cache_does_a_set_get_round_trip():
    key = unique("test-infrastructure")

    cache.set(key, {"sku": "A-1", "qty": 3}, timeout=30)

    assert cache.get(key) == {"sku": "A-1", "qty": 3}
    cache.delete(key)


def test_a_missing_cache_key_reads_as_the_default():
    assert cache.get(unique("missing"), "fallback") == "fallback"


@with_redis
def test_with_redis_url_the_cache_backend_is_redis():
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert settings.CACHES["default"]["LOCATION"] == settings.REDIS_URL


@with_redis
def test_with_redis_url_the_channel_layer_is_channels_redis():
    from channels_redis.core import RedisChannelLayer

    assert isinstance(get_channel_layer(), RedisChannelLayer)


@with_redis
def test_with_redis_url_a_group_message_makes_a_round_trip_through_redis():
    message = group_round_trip(get_channel_layer())

    assert message == {"type": "test.ping", "text": "你好"}


@with_redis
def test_with_redis_url_the_celery_broker_is_redis_with_a_long_visibility_timeout():
    assert celery_app.conf.broker_url == settings.REDIS_URL
    assert celery_app.conf.broker_transport_options["visibility_timeout"] >= 3600


@without_redis
def test_without_redis_url_the_channel_layer_is_in_memory():
    from channels.layers import InMemoryChannelLayer

    assert isinstance(get_channel_layer(), InMemoryChannelLayer)


@without_redis
def test_without_redis_url_a_group_message_makes_a_round_trip_in_memory():
    message = group_round_trip(get_channel_layer())

    assert message == {"type": "test.ping", "text": "你好"}


@without_redis
def test_without_redis_url_the_celery_broker_is_a_filesystem_queue_under_var():
    options = celery_app.conf.broker_transport_options

    assert celery_app.conf.broker_url == "filesystem://"
    assert options["data_folder_in"] == options["data_folder_out"]
    assert str(settings.VAR_DIR / "celery") in options["data_folder_in"]


def test_celery_acknowledges_tasks_late():
    assert celery_app.conf.task_acks_late is True


def test_celery_rejects_tasks_of_a_lost_worker_so_they_are_redelivered():
    assert celery_app.conf.task_reject_on_worker_lost is True


def test_celery_prefetches_one_task_at_a_time():
    assert celery_app.conf.worker_prefetch_multiplier == 1


def test_celery_schedules_come_from_the_database():
    assert celery_app.conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"
