"""`imports/`: upload, shop scope, permissions, the job's progress and errors, list query count."""
import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.core.testing import api_client_for, count_queries
from apps.finance.tests.factories import CurrencyFactory
from apps.platforms.imports.testing import DATA_DIR, daily_rates
from apps.platforms.models import ImportJob
from apps.sales.models import Order
from apps.users.tests.factories import UserFactory

from .factories import ImportJobFactory, PlatformFactory, ShopFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/imports/"


@pytest.fixture
def shops():
    daily_rates({"EUR": "7.80", "GBP": "9.10", "SEK": "0.68"}, start=dt.date(2025, 6, 28), days=10)
    amazon = PlatformFactory(code="amazon")
    mine = ShopFactory(platform=amazon, code="amazon-eu", currency=CurrencyFactory(code="EUR"))
    theirs = ShopFactory(platform=amazon, code="amazon-us")
    return mine, theirs


@pytest.fixture
def ops(shops):
    user = UserFactory(username="ops", roles=["运营"])
    user.shops.add(shops[0])
    return user


def report(name="amazon_all_orders.txt"):
    return SimpleUploadedFile(name, (DATA_DIR / "amazon_all_orders.txt").read_bytes(), content_type="text/plain")


def upload(user, **data):
    return api_client_for(user).post(URL, data, format="multipart")


def test_an_upload_answers_201_with_the_queued_job_which_then_runs(ops, shops, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(ops, file=report(), kind="amazon_orders", shop=shops[0].pk)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["code"] == 201
    job = body["data"]
    assert (job["status"], job["kind"], job["shop_code"], job["original_filename"], job["dry_run"]) == (
        "queued", "amazon_orders", "amazon-eu", "amazon_all_orders.txt", False)
    detail = api_client_for(ops).get(f"{URL}{job['id']}/").json()["data"]
    assert (detail["status"], detail["created_count"], detail["progress"], detail["errors"]) == (
        "succeeded", 6, 100.0, [])
    assert Order.objects.filter(shop=shops[0]).count() == 6


def test_a_dry_run_upload_reports_counts_and_writes_nothing(ops, shops, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(ops, file=report(), kind="amazon_orders", shop=shops[0].pk, dry_run="true")
    detail = api_client_for(ops).get(f"{URL}{response.json()['data']['id']}/").json()["data"]
    assert (detail["dry_run"], detail["status"], detail["created_count"]) == (True, "succeeded", 6)
    assert not Order.objects.exists()


def test_an_order_file_without_a_shop_is_a_400_on_the_shop_field(ops):
    response = upload(ops, file=report(), kind="amazon_orders")
    assert response.status_code == 400 and "shop" in response.json()["error"]
    assert not ImportJob.objects.exists()


def test_another_users_shop_answers_404(ops, shops):
    response = upload(ops, file=report(), kind="amazon_orders", shop=shops[1].pk)
    assert response.status_code == 404 and response.json()["code"] == 404
    assert not ImportJob.objects.exists()


def test_a_shopify_export_into_an_amazon_shop_is_a_400(ops, shops):
    response = upload(ops, file=report("orders.csv"), kind="shopify_orders", shop=shops[0].pk)
    assert response.status_code == 400 and "shop" in response.json()["error"]


def test_a_file_of_another_type_is_a_400_on_the_file_field(ops, shops):
    pdf = SimpleUploadedFile("orders.pdf", b"%PDF-1.4", content_type="application/pdf")
    response = upload(ops, file=pdf, kind="amazon_orders", shop=shops[0].pk)
    assert response.status_code == 400 and "file" in response.json()["error"]


def test_a_role_without_add_importjob_gets_403(shops):
    finance = UserFactory(username="fin", roles=["财务"])
    response = upload(finance, file=report(), kind="amazon_orders", shop=shops[0].pk)
    assert response.status_code == 403 and response.json()["code"] == 403


def test_a_role_that_may_import_but_not_adjust_stock_cannot_import_stock_levels(ops):
    stock_file = SimpleUploadedFile("stock.csv", b"sku,warehouse,on_hand\nA,B,1\n", content_type="text/csv")
    response = upload(ops, file=stock_file, kind="stock")
    assert response.status_code == 403


def test_a_reader_sees_jobs_of_their_shops_and_shopless_ones_only(ops, shops):
    ImportJobFactory(shop=shops[0], kind="amazon_orders")
    ImportJobFactory(shop=shops[1], kind="amazon_orders")
    ImportJobFactory(shop=None, kind="products")
    reader = UserFactory(username="reader", roles=["只读"])
    reader.shops.add(shops[0])
    items = api_client_for(reader).get(URL).json()["data"]["items"]
    assert sorted((job["kind"], job["shop"]) for job in items) == [("amazon_orders", shops[0].pk), ("products", None)]


def test_a_rejected_job_shows_its_row_numbered_errors(ops, shops, django_capture_on_commit_callbacks):
    bad = SimpleUploadedFile("bad.txt", b"amazon-order-id\tpurchase-date\torder-status\tsku\tquantity\titem-price\n"
                                        b"111-1\tyesterday\tShipped\tA\t1\t1.00\n", content_type="text/plain")
    with django_capture_on_commit_callbacks(execute=True):
        job_id = upload(ops, file=bad, kind="amazon_orders", shop=shops[0].pk).json()["data"]["id"]
    detail = api_client_for(ops).get(f"{URL}{job_id}/").json()["data"]
    assert detail["status"] == "rejected" and detail["rejected_count"] == 1
    assert detail["errors"][0]["row"] == 2 and detail["errors"][0]["field"] == "purchase-date"


def test_the_list_costs_the_same_queries_for_1_and_20_jobs(ops, shops):
    client = api_client_for(ops)
    ImportJobFactory(shop=shops[0], kind="amazon_orders", created_by=ops)
    client.get(URL)  # warm caches (content types, permissions)
    one = count_queries(lambda: client.get(URL))
    for _ in range(19):
        ImportJobFactory(shop=shops[0], kind="amazon_orders", created_by=ops,
                         errors=[{"row": 2, "field": "", "message": "x"}])
    twenty = count_queries(lambda: client.get(URL))
    assert len(client.get(URL).json()["data"]["items"]) == 20
    assert one == twenty
