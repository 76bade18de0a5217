"""The permission matrix: every predefined role × every resource × read and write, as the
business expects it (a deliberate table, not derived from the role map)."""
import pytest

from apps.core.testing import api_client_for
from apps.users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ROLES = ["管理员", "运营", "仓库", "财务", "只读"]
Y, N = 200, 403

# endpoint: expected GET status for 管理员, 运营, 仓库, 财务, 只读
READ = {
    "orders/": (Y, Y, Y, Y, Y),
    "customers/": (Y, Y, N, Y, Y),
    "salespeople/": (Y, Y, N, Y, Y),
    "products/": (Y, Y, Y, Y, Y),
    "warehouses/": (Y, N, Y, N, Y),
    "stock/": (Y, Y, Y, Y, Y),
    "stock-movements/": (Y, N, Y, N, Y),
    "stock-adjustments/": (Y, N, Y, N, Y),
    "stock-transfers/": (Y, N, Y, N, Y),
    "suppliers/": (Y, N, Y, N, Y),
    "purchase-orders/": (Y, N, Y, Y, Y),
    "shipments/": (Y, N, Y, N, Y),
    "currencies/": (Y, Y, N, Y, Y),
    "exchange-rates/": (Y, Y, N, Y, Y),
    "financial-records/": (Y, N, N, Y, Y),
    "expenses/": (Y, N, N, Y, Y),
    "revenues/": (Y, N, N, Y, Y),
    "platforms/": (Y, Y, Y, Y, Y),
    "shops/": (Y, Y, Y, Y, Y),
    "listings/": (Y, Y, N, N, Y),
    "collection-runs/": (Y, Y, N, N, Y),
    "imports/": (Y, Y, Y, N, Y),
    "users/": (Y, N, N, N, N),
    "roles/": (Y, N, N, N, N),
    "dashboard/kpis/": (Y, Y, N, Y, Y),
    "sales/summary/": (Y, Y, N, Y, Y),
    "inventory/analysis/": (Y, Y, Y, Y, Y),
    "inventory/replenishment/": (Y, Y, Y, Y, Y),
    "finance/profit/": (Y, N, N, Y, Y),
}

V = 400  # allowed: the empty body fails validation instead
# endpoint: expected POST (empty body) status for 管理员, 运营, 仓库, 财务, 只读
WRITE = {
    "orders/": (V, V, N, N, N),
    "products/": (V, V, N, N, N),
    "listings/": (V, V, N, N, N),
    "platforms/": (V, V, N, N, N),
    "warehouses/": (V, N, V, N, N),
    "suppliers/": (V, N, V, N, N),
    "purchase-orders/": (V, N, V, N, N),
    "shipments/": (V, N, V, N, N),
    "stock-adjustments/": (V, N, V, N, N),
    "stock-transfers/": (V, N, V, N, N),
    "expenses/": (V, N, N, V, N),
    "exchange-rates/": (V, N, N, V, N),
    "revenues/": (V, N, N, V, N),
    "users/": (V, N, N, N, N),
}


@pytest.fixture
def clients():
    return {role: api_client_for(UserFactory(username=f"matrix-{n}", roles=[role])) for n, role in enumerate(ROLES)}


@pytest.mark.parametrize("endpoint", sorted(READ))
def test_reading(endpoint, clients):
    got = tuple(clients[role].get(f"/api/v1/{endpoint}").status_code for role in ROLES)
    assert got == READ[endpoint], dict(zip(ROLES, got))


@pytest.mark.parametrize("endpoint", sorted(WRITE))
def test_writing(endpoint, clients):
    got = tuple(clients[role].post(f"/api/v1/{endpoint}", {}, format="json").status_code for role in ROLES)
    assert got == WRITE[endpoint], dict(zip(ROLES, got))


@pytest.mark.parametrize("endpoint", ["stock-movements/", "collection-runs/", "stock/"])
def test_read_only_resources_refuse_writes_for_everyone(endpoint, clients):
    assert {clients[role].post(f"/api/v1/{endpoint}", {}, format="json").status_code for role in ROLES} == {405}


def test_without_a_token_everything_is_401():
    from rest_framework.test import APIClient

    client = APIClient()
    assert {client.get(f"/api/v1/{endpoint}").status_code for endpoint in READ} == {401}
