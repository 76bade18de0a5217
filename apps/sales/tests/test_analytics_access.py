"""What every business-overview and sales analysis shares: permission, scope, parameter errors in the
envelope, and a query count that does not grow with the number of orders."""
import datetime as dt
from decimal import Decimal

import pytest

from apps.core.testing import api_client_for, count_queries
from apps.users.tests.factories import UserFactory

from .test_analytics_dataset import Spec, build_world, shanghai, store, utc, world  # noqa: F401

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    "dashboard/kpis/", "dashboard/sales-trend/", "dashboard/platform-distribution/", "dashboard/recent-orders/",
    "sales/summary/", "sales/order-analysis/", "sales/customer-analysis/", "sales/team-performance/",
]
MARCH = {"start": "2025-03-01", "end": "2025-03-31"}


@pytest.fixture
def operator(world):
    user = UserFactory(username="ops", roles=["运营"])
    user.shops.add(world.shops["us"])
    return api_client_for(user)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_without_the_analysis_permission_the_answer_is_403_in_the_envelope(world, path):
    keeper = api_client_for(UserFactory(username="keeper", roles=["仓库"]))
    response = keeper.get(f"/api/v1/{path}")
    assert response.status_code == 403 and response.json()["code"] == 403


@pytest.mark.parametrize("path", ENDPOINTS)
def test_without_a_token_the_answer_is_401(world, path, client):
    response = client.get(f"/api/v1/{path}")
    assert response.status_code == 401 and response.json()["code"] == 401


@pytest.mark.parametrize("path", ENDPOINTS)
def test_another_shop_answers_404_and_an_own_shop_200(world, operator, path):
    assert operator.get(f"/api/v1/{path}", {"shop": world.shops["de"].pk}).status_code == 404
    assert operator.get(f"/api/v1/{path}", {"shop": world.shops["us"].pk}).status_code == 200


@pytest.mark.parametrize("path", ENDPOINTS)
def test_analyses_are_read_only(world, operator, path):
    assert operator.post(f"/api/v1/{path}", {}).status_code == 405


@pytest.fixture
def newcomer():
    """An operator with no shops yet: parameters are checked before anything is computed."""
    return api_client_for(UserFactory(username="new", roles=["运营"]))


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("params, name", [
    ({"start": "2025-13-01"}, "start"),
    ({"start": "1 March"}, "start"),
    ({"end": "2025-02-30"}, "end"),
    ({"start": "2025-03-10", "end": "2025-03-09"}, "end"),
    ({"start": "2000-01-01", "end": "2025-01-01"}, "end"),
    ({"shop": "abc"}, "shop"),
    ({"platform": "myspace"}, "platform"),
])
def test_bad_parameters_are_400s_naming_the_parameter(newcomer, path, params, name):
    response = newcomer.get(f"/api/v1/{path}", params)
    body = response.json()
    assert response.status_code == 400 and body["code"] == 400, body
    assert list(body["error"]) == [name]
    assert body["error"][name][0]


@pytest.mark.parametrize("path, params, name", [
    ("dashboard/sales-trend/", {"interval": "hour"}, "interval"),
    ("dashboard/recent-orders/", {"limit": "0"}, "limit"),
    ("sales/customer-analysis/", {"interval": "year"}, "interval"),
    ("sales/customer-analysis/", {"limit": "x"}, "limit"),
])
def test_endpoint_specific_parameters_are_checked(newcomer, path, params, name):
    response = newcomer.get(f"/api/v1/{path}", params)
    assert response.status_code == 400 and list(response.json()["error"]) == [name]


def test_by_default_the_period_is_the_30_days_ending_today_in_the_business_zone(world, operator, monkeypatch):
    monkeypatch.setattr("apps.core.api.params.business_today", lambda: dt.date(2025, 3, 31))
    data = operator.get("/api/v1/dashboard/kpis/").json()["data"]
    assert (data["start"], data["end"]) == ("2025-03-02", "2025-03-31")
    assert (data["previous_start"], data["previous_end"]) == ("2025-01-31", "2025-03-01")
    only_end = operator.get("/api/v1/dashboard/kpis/", {"end": "2025-02-28"}).json()["data"]
    assert only_end["start"] == "2025-01-30"


def _more_orders(count: int) -> list[Spec]:
    specs = []
    for n in range(count):
        day = 1 + n % 28
        specs.append(Spec(
            "us", f"M{n}", utc(2025, 3, day, 3 + n % 5), ("paid", "shipped", "refunded", "cancelled", "pending")[n % 5],
            [("MUG", 1 + n % 3, Decimal("12")), ("LAMP", 1, Decimal("30"))][: 1 + n % 2], f"m{n}",
            country=("US", "GB", "FR")[n % 3], fee=Decimal("2"), refund=Decimal("5") if n % 5 == 2 else Decimal("0"),
            shipped_at=utc(2025, 3, day, 20) if n % 5 == 1 else None, channel=("merchant", "platform")[n % 2],
        ))
    return specs


@pytest.mark.parametrize("path", ENDPOINTS)
def test_the_query_count_does_not_grow_with_the_orders(shanghai, db, path):
    small = build_world(specs=_more_orders(1))
    user = UserFactory(username="ops", roles=["运营"])
    user.shops.add(small.shops["us"], small.shops["de"])
    client = api_client_for(user)
    params = {**MARCH, "page_size": 50} if path == "sales/summary/" else MARCH
    assert client.get(f"/api/v1/{path}", params).status_code == 200
    one = count_queries(lambda: client.get(f"/api/v1/{path}", params))
    store(small.shops, _more_orders(20)[1:])
    twenty = count_queries(lambda: client.get(f"/api/v1/{path}", params))
    assert twenty == one
    for group_by in ("day", "month", "shop", "platform", "country", "sku") if path == "sales/summary/" else ():
        assert count_queries(lambda: client.get(f"/api/v1/{path}", {**params, "group_by": group_by})) == one
