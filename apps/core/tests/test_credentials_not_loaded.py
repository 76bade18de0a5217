"""Lists and analyses that show a shop's name never load (decrypt) its credentials: secrets stay
where they are needed, and a key misconfiguration cannot take the order list down with it."""
import datetime as dt

import pytest

from apps.core import fields
from apps.core.testing import api_client_for
from apps.platforms.tests.factories import CollectionRunFactory, ImportJobFactory, ListingFactory, ShopFactory
from apps.sales.services import sales_rollups_rebuild
from apps.sales.tests.factories import CustomerFactory, OrderFactory, OrderLineFactory
from apps.users.tests.factories import AdminUserFactory

pytestmark = pytest.mark.django_db

PERIOD = {"start": "2025-01-01", "end": "2025-01-31"}
ENDPOINTS = [
    ("/api/v1/orders/", {}),
    ("/api/v1/customers/", {}),
    ("/api/v1/listings/", {}),
    ("/api/v1/collection-runs/", {}),
    ("/api/v1/imports/", {}),
    ("/api/v1/dashboard/recent-orders/", PERIOD),
    ("/api/v1/sales/customer-analysis/", PERIOD),
]


@pytest.fixture
def data():
    shop = ShopFactory()
    customer = CustomerFactory(shop=shop)
    OrderLineFactory(order=OrderFactory(shop=shop, customer=customer))
    sales_rollups_rebuild(start=dt.date(2025, 1, 1), end=dt.date(2025, 1, 31))  # the analyses read the rollups
    ListingFactory(shop=shop)
    CollectionRunFactory(shop=shop)
    ImportJobFactory(shop=shop)
    return shop


def refuse_to_decrypt(token):
    raise AssertionError("credentials were decrypted")


@pytest.mark.parametrize("path,params", ENDPOINTS, ids=[path for path, _ in ENDPOINTS])
def test_showing_a_shop_name_does_not_decrypt_its_credentials(data, monkeypatch, path, params):
    client = api_client_for(AdminUserFactory())
    monkeypatch.setattr(fields, "decrypt_json", refuse_to_decrypt)
    response = client.get(path, params)
    assert response.status_code == 200, response.json()
    body = response.json()["data"]
    items = body["items"] if "items" in body else body
    assert data.code in str(items) or data.name in str(items)
