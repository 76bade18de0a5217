import json

import pytest
from django_celery_beat.models import PeriodicTask

from apps.core.testing import api_client_for, count_queries
from apps.platforms.models import CollectionRun, Shop
from apps.platforms.sandbox.shopify import ShopifyHandler
from apps.platforms.sync_tasks import sync_shop
from apps.sales.models import Order
from apps.users.tests.factories import UserFactory

from .factories import CollectionRunFactory, PlatformFactory, ShopFactory
from .sandbox_support import sandbox_shop

pytestmark = pytest.mark.django_db
TOKEN = {"access_token": "shpat_sandbox_123"}


@pytest.fixture
def admin():
    return api_client_for(UserFactory(username="boss", roles=["管理员"]))


def test_creating_a_shop_creates_its_collection_schedules(admin):
    platform = PlatformFactory(code="shopify")
    from apps.finance.tests.factories import CurrencyFactory

    CurrencyFactory(code="USD")
    response = admin.post("/api/v1/shops/", {"platform": platform.pk, "name": "美国站", "code": "us-1",
                                             "country": "US", "currency": "USD"}, format="json")
    assert response.status_code == 201, response.content
    shop = Shop.objects.get(code="us-1")
    tasks = PeriodicTask.objects.filter(name__startswith="sync us-1 ")
    assert sorted(t.name for t in tasks) == ["sync us-1 inventory", "sync us-1 orders", "sync us-1 products"]
    assert all(json.loads(t.args)[0] == shop.pk and t.task == "platforms.sync_shop" for t in tasks)
    admin.patch(f"/api/v1/shops/{shop.pk}/", {"is_active": False}, format="json")
    assert not PeriodicTask.objects.filter(name__startswith="sync us-1 ", enabled=True).exists()


def test_the_stale_run_reaper_is_scheduled():
    assert PeriodicTask.objects.filter(task="platforms.reap_stale_runs", enabled=True).exists()


def test_sync_starts_a_run_that_collects_and_a_second_request_gets_the_same_active_run(
        admin, django_capture_on_commit_callbacks):
    with sandbox_shop(ShopifyHandler, "shopify", credentials=TOKEN, orders=12) as (shop, state):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            first = admin.post(f"/api/v1/shops/{shop.pk}/sync/", {"kind": "orders"}, format="json")
            second = admin.post(f"/api/v1/shops/{shop.pk}/sync/", {"kind": "orders"}, format="json")
        assert first.status_code == 202 and second.status_code == 200
        assert first.json()["data"]["id"] == second.json()["data"]["id"]
        for callback in callbacks:
            callback()
        run = CollectionRun.objects.get()
        assert run.status == "succeeded", run.error
        assert Order.objects.filter(shop=shop).count() == run.records_created


def test_an_unknown_sync_kind_is_a_field_error(admin):
    shop = ShopFactory()
    response = admin.post(f"/api/v1/shops/{shop.pk}/sync/", {"kind": "everything"}, format="json")
    assert response.status_code == 400 and "kind" in response.json()["error"]


def test_a_beat_tick_starts_a_run_for_an_active_shop(django_capture_on_commit_callbacks):
    shop = ShopFactory()
    with django_capture_on_commit_callbacks(execute=False):
        sync_shop.apply(args=[shop.pk, "inventory"])
    assert CollectionRun.objects.get().kind == "inventory"


def test_test_connection_reports_the_platforms_answer(admin):
    with sandbox_shop(ShopifyHandler, "shopify", credentials=TOKEN) as (shop, state):
        body = admin.post(f"/api/v1/shops/{shop.pk}/test-connection/").json()["data"]
        assert body == {"ok": True, "message": "Sandbox shop"}
        state.credentials = {"access_token": "revoked"}
        body = admin.post(f"/api/v1/shops/{shop.pk}/test-connection/").json()["data"]
        assert body["ok"] is False and "401" in body["message"]
        assert Shop.objects.get(pk=shop.pk).auth_status == "needs_reauth"


def test_collection_runs_are_scoped_to_the_users_shops():
    mine, theirs = ShopFactory(), ShopFactory()
    CollectionRunFactory(shop=mine, status="failed", error="HTTP 500")
    hidden = CollectionRunFactory(shop=theirs)
    user = UserFactory(username="ops", roles=["运营"])
    user.shops.add(mine)
    client = api_client_for(user)
    rows = client.get("/api/v1/collection-runs/").json()["data"]["items"]
    assert [(r["shop"], r["error"]) for r in rows] == [(mine.pk, "HTTP 500")]
    assert client.get(f"/api/v1/collection-runs/{hidden.pk}/").status_code == 404


def test_warehouse_staff_cannot_start_a_sync():
    shop = ShopFactory()
    client = api_client_for(UserFactory(username="wh", roles=["仓库"]))
    assert client.post(f"/api/v1/shops/{shop.pk}/sync/", {"kind": "orders"}, format="json").status_code == 403


def test_collection_runs_list_costs_the_same_for_1_and_20_runs(admin):
    CollectionRunFactory(status="succeeded")
    one = count_queries(lambda: admin.get("/api/v1/collection-runs/"))
    for _ in range(19):
        CollectionRunFactory(status="succeeded")
    assert count_queries(lambda: admin.get("/api/v1/collection-runs/")) == one


def test_a_shop_added_in_admin_gets_its_schedules(client):
    from apps.finance.tests.factories import CurrencyFactory
    from apps.users.tests.factories import AdminUserFactory

    client.force_login(AdminUserFactory())
    platform = PlatformFactory(code="ebay")
    CurrencyFactory(code="USD")
    response = client.post("/admin/platforms/shop/add/", {
        "platform": platform.pk, "name": "eBay 美国", "code": "ebay-us", "external_id": "", "marketplace": "US",
        "country": "US", "currency": "USD", "timezone": "UTC", "platform_fee_rate": "0.1", "is_active": "on",
        "api_base_url": "", "credentials": "", "auth_status": "unconfigured",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    assert PeriodicTask.objects.filter(name__startswith="sync ebay-us ").count() == 3


def test_stale_import_jobs_are_requeued_on_a_schedule():
    assert PeriodicTask.objects.filter(task="platforms.requeue_stale_import_jobs", enabled=True).exists()


def test_warehouse_staff_may_import_stock_level_files():
    from apps.users.tests.factories import UserFactory as Users

    user = Users(username="wh2", roles=["仓库"])
    assert user.has_perm("platforms.add_importjob") and user.has_perm("inventory.add_stockadjustment")
