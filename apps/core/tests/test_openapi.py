"""The OpenAPI schema: it generates without warnings, validates, covers the API surface and
describes the envelope, the filters and the actions."""
import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db

SURFACE = [
    "auth/login/", "auth/refresh/", "auth/logout/", "auth/register/", "auth/me/", "auth/change-password/",
    "users/", "roles/", "orders/", "customers/", "salespeople/", "products/", "warehouses/", "stock/",
    "stock-movements/", "stock-adjustments/", "stock-transfers/", "suppliers/", "purchase-orders/",
    "purchase-orders/{id}/approve/", "purchase-orders/{id}/receive/", "purchase-orders/{id}/cancel/",
    "shipments/", "shipments/{id}/ship/", "shipments/{id}/cancel/", "currencies/", "exchange-rates/",
    "financial-records/", "expenses/", "expenses/{id}/approve/", "expenses/{id}/reject/", "revenues/",
    "platforms/", "shops/", "shops/{id}/test-connection/", "shops/{id}/sync/", "listings/", "listings/{id}/map/",
    "collection-runs/",
]


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def test_the_schema_validates_against_openapi_3(schema):
    validate_schema(schema)


@pytest.mark.parametrize("path", SURFACE)
def test_every_path_of_the_surface_is_in_the_schema(schema, path):
    assert f"/api/v1/{path}" in schema["paths"]


def test_success_responses_are_described_inside_the_envelope(schema):
    ok = schema["paths"]["/api/v1/orders/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(ok["properties"]) == {"code", "message", "data", "timestamp"}
    page = schema["components"]["schemas"][ok["properties"]["data"]["$ref"].rsplit("/", 1)[1]]
    assert set(page["properties"]) >= {"items", "total", "page", "page_size"}


def test_error_responses_use_the_error_envelope(schema):
    responses = schema["paths"]["/api/v1/purchase-orders/{id}/receive/"]["post"]["responses"]
    for status in ("400", "401", "403", "404", "429", "500"):
        assert responses[status]["content"]["application/json"]["schema"]["$ref"].endswith("EnvelopeError")


def test_filters_are_documented(schema):
    names = {p["name"] for p in schema["paths"]["/api/v1/orders/"]["get"]["parameters"]}
    assert {"start", "end", "shop", "platform", "status", "country", "sku", "search", "ordering", "page"} <= names


def test_actions_carry_their_descriptions(schema):
    receive = schema["paths"]["/api/v1/purchase-orders/{id}/receive/"]["post"]
    assert "超出采购数量" in receive["description"]


def test_schema_and_docs_are_served(client):
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200
