"""The list pagination: exact totals for ordinary lists, the planner's estimate past the counting
limit on PostgreSQL, and deep pages loaded through their keys first."""
import pytest
from django.db import connection

from apps.core.testing import api_client_for, count_queries
from apps.finance.tests.factories import CurrencyFactory
from apps.inventory.models import Supplier
from apps.users.tests.factories import AdminUserFactory
from erp.api import pagination

pytestmark = pytest.mark.django_db

ROWS = 45


@pytest.fixture
def suppliers(db):
    CurrencyFactory(code="CNY")
    Supplier.objects.bulk_create(
        [Supplier(code=f"S{n:03d}", name=f"供应商{n}", currency_id="CNY") for n in range(ROWS)]
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE suppliers")


@pytest.fixture
def client():
    return api_client_for(AdminUserFactory())


def page(client, number, **params):
    return client.get("/api/v1/suppliers/", {"ordering": "code", "page": number, "page_size": 10, **params})


def test_a_total_under_the_limit_is_exact(suppliers, client):
    body = page(client, 1).json()["data"]
    assert body["total"] == ROWS and body["total_is_estimate"] is False
    assert [row["code"] for row in body["items"]] == [f"S{n:03d}" for n in range(10)]
    assert page(client, 6).status_code == 404


def test_a_filtered_total_counts_only_matching_rows(suppliers, client):
    Supplier.objects.filter(code__in=["S001", "S002"]).update(is_active=False)
    body = page(client, 1, is_active="false").json()["data"]
    assert body["total"] == 2 and body["total_is_estimate"] is False


def test_past_the_limit_the_total_is_the_planners_estimate_on_postgresql(suppliers, client, monkeypatch):
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 20)
    body = page(client, 1).json()["data"]
    if connection.vendor == "postgresql":
        assert body["total_is_estimate"] is True
        # Analysed, the planner knows the table's size; the count up to the limit is a floor anyway.
        assert body["total"] == ROWS
    else:
        assert body == {**body, "total": ROWS, "total_is_estimate": False}


def test_with_an_estimated_total_the_last_page_is_whole_and_past_the_end_is_404(suppliers, client, monkeypatch):
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 20)
    monkeypatch.setattr(pagination, "planner_row_estimate", lambda queryset: 1_000)  # a planner guessing high
    body = page(client, 5).json()["data"]
    assert [row["code"] for row in body["items"]] == [f"S{n:03d}" for n in range(40, 45)]
    assert body["total"] == 1_000 and body["total_is_estimate"] is True
    response = page(client, 6)
    assert response.status_code == 404 and response.json()["code"] == 404


def test_a_planner_guessing_low_does_not_lower_the_total_below_what_was_counted(suppliers, client, monkeypatch):
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 20)
    monkeypatch.setattr(pagination, "planner_row_estimate", lambda queryset: 3)
    body = page(client, 1).json()["data"]
    assert body["total"] == 21 and body["total_is_estimate"] is True
    assert len(page(client, 5).json()["data"]["items"]) == 5


def test_deep_pages_load_through_their_keys_and_match_the_plain_slice(suppliers, client, monkeypatch):
    expected = list(Supplier.objects.order_by("-name", "code").values_list("code", flat=True))
    shallow_queries = count_queries(lambda: page(client, 1, ordering="-name"))
    monkeypatch.setattr(pagination, "DEFERRED_JOIN_OFFSET", 10)
    seen = []
    for number in range(1, 6):
        seen += [row["code"] for row in page(client, number, ordering="-name").json()["data"]["items"]]
    assert seen == expected
    # One more query for a deep page: the keys, then the rows.
    assert count_queries(lambda: page(client, 3, ordering="-name")) == shallow_queries + 1


def test_a_page_past_the_limit_with_rows_takes_the_estimate_without_counting(suppliers, client, monkeypatch):
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 20)
    monkeypatch.setattr(pagination, "planner_row_estimate", lambda queryset: 1_000)
    counts = []
    real_count = pagination.QuerySet.count
    monkeypatch.setattr(pagination.QuerySet, "count", lambda self: counts.append(self) or real_count(self))
    body = page(client, 3).json()["data"]  # rows 20..29: past the limit of 20
    assert [row["code"] for row in body["items"]] == [f"S{n:03d}" for n in range(20, 30)]
    assert (body["total"], body["total_is_estimate"], counts) == (1_000, True, [])
    # a planner guessing low: the rows seen are a floor
    monkeypatch.setattr(pagination, "planner_row_estimate", lambda queryset: 3)
    assert page(client, 3).json()["data"]["total"] == 30
    # past the end: counted, then 404
    assert page(client, 9).status_code == 404 and counts


def test_without_a_planner_a_page_past_the_limit_still_has_the_exact_total(suppliers, client, monkeypatch):
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 20)
    monkeypatch.setattr(pagination, "planner_row_estimate", lambda queryset: None)
    body = page(client, 3).json()["data"]
    assert (body["total"], body["total_is_estimate"], len(body["items"])) == (ROWS, False, 10)
