"""The window a new collection run covers: it ends a little in the past, and the next one starts
before that end, so the lag loses nothing."""
import datetime as dt

import pytest
from django.utils import timezone

from apps.platforms.collection import _window
from apps.platforms.models import CollectionRun

from .factories import CollectionRunFactory, ShopFactory

pytestmark = pytest.mark.django_db


def test_a_window_ends_the_configured_lag_before_now(settings):
    settings.COLLECTION_WINDOW_LAG_SECONDS = 90
    before = timezone.now()
    _, until, checkpoint = _window(CollectionRunFactory(shop=ShopFactory()))
    after = timezone.now()
    assert checkpoint is None
    assert before - dt.timedelta(seconds=90) <= until <= after - dt.timedelta(seconds=90)


def test_the_next_window_starts_before_the_last_one_ended(settings):
    settings.COLLECTION_WINDOW_LAG_SECONDS = 90
    shop = ShopFactory()
    end = timezone.now() - dt.timedelta(seconds=90)
    CollectionRunFactory(shop=shop, status=CollectionRun.Status.SUCCEEDED, window_start=end - dt.timedelta(days=1),
                         window_end=end)
    since, until, _ = _window(CollectionRunFactory(shop=shop))
    assert since == end - dt.timedelta(minutes=settings.COLLECTION_OVERLAP_MINUTES) < until
