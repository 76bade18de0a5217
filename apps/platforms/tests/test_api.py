import json

import pytest

from apps.core.testing import api_client_for, count_queries
from apps.inventory.tests.factories import ProductFactory
from apps.platforms.models import Shop
from apps.sales.tests.factories import OrderLineFactory
from apps.users.tests.factories import UserFactory

from .factories import ListingFactory, PlatformFactory, ShopFactory

pytestmark = pytest.mark.django_db
SECRET = "shpat_test_secret_9876"


@pytest.fixture
def shops():
    return ShopFactory(code="mine"), ShopFactory(code="theirs")


@pytest.fixture
def ops(shops):
    user = UserFactory(username="ops", roles=["运营"])
    user.shops.add(shops[0])
    return user


def items(response):
    assert response.status_code == 200, response.content
    return response.json()["data"]["items"]


def test_an_operator_lists_only_their_shops(ops, shops):
    codes = [s["code"] for s in items(api_client_for(ops).get("/api/v1/shops/"))]
    assert codes == ["mine"]


def test_an_admin_lists_every_shop(shops):
    admin = UserFactory(username="boss", roles=["管理员"])
    assert {s["code"] for s in items(api_client_for(admin).get("/api/v1/shops/"))} == {"mine", "theirs"}


def test_another_shops_object_answers_404(ops, shops):
    response = api_client_for(ops).get(f"/api/v1/shops/{shops[1].pk}/")
    assert response.status_code == 404 and response.json()["code"] == 404


def test_credentials_never_appear_in_any_response(ops, shops):
    client = api_client_for(ops)
    bodies = [
        client.get("/api/v1/shops/").content,
        client.get(f"/api/v1/shops/{shops[0].pk}/").content,
        client.patch(f"/api/v1/shops/{shops[0].pk}/", {"credentials": {"access_token": "shpat_new_secret_1111"}},
                     format="json").content,
    ]
    for body in bodies:
        assert SECRET.encode() not in body and b"shpat_new_secret_1111" not in body
    assert json.loads(bodies[1])["data"]["has_credentials"] is True
    assert Shop.objects.get(pk=shops[0].pk).credentials == {"access_token": "shpat_new_secret_1111"}


def test_a_shop_with_a_bad_country_is_a_field_error(ops):
    admin = UserFactory(username="boss2", roles=["管理员"])
    platform = PlatformFactory(code="amazon")
    response = api_client_for(admin).post(
        "/api/v1/shops/", {"platform": platform.pk, "name": "X", "code": "x", "country": "USA", "currency": "USD"},
        format="json",
    )
    assert response.status_code == 400
    assert "country" in response.json()["error"]


def test_read_only_role_can_read_but_not_write(shops):
    reader = UserFactory(username="reader", roles=["只读"])
    reader.shops.add(shops[0])
    client = api_client_for(reader)
    assert client.get("/api/v1/platforms/").status_code == 200
    response = client.post("/api/v1/platforms/", {"code": "walmart", "name": "Walmart"}, format="json")
    assert response.status_code == 403 and response.json()["code"] == 403


def test_a_role_without_the_view_permission_gets_403():
    finance = UserFactory(username="fin", roles=["财务"])
    assert api_client_for(finance).get("/api/v1/listings/").status_code == 403


def test_unmapped_listings_form_the_pairing_queue(ops, shops):
    ListingFactory(shop=shops[0], platform_sku="MAPPED")
    ListingFactory(shop=shops[0], platform_sku="NEW-SKU", product=None)
    ListingFactory(shop=shops[1], platform_sku="OTHER-SHOP", product=None)
    skus = [row["platform_sku"] for row in items(api_client_for(ops).get("/api/v1/listings/?mapped=false"))]
    assert skus == ["NEW-SKU"]


def test_mapping_a_listing_links_its_unmapped_order_lines(ops, shops):
    listing = ListingFactory(shop=shops[0], platform_sku="NEW-SKU", product=None)
    line = OrderLineFactory(order__shop=shops[0], listing=listing, product=None, platform_sku="NEW-SKU")
    product = ProductFactory(sku="MASTER-1")
    response = api_client_for(ops).post(f"/api/v1/listings/{listing.pk}/map/", {"sku": "MASTER-1"}, format="json")
    assert response.status_code == 200
    assert response.json()["data"]["product_sku"] == "MASTER-1"
    line.refresh_from_db()
    assert line.product_id == product.pk


def test_mapping_to_an_unknown_sku_is_a_field_error(ops, shops):
    listing = ListingFactory(shop=shops[0], product=None)
    response = api_client_for(ops).post(f"/api/v1/listings/{listing.pk}/map/", {"sku": "NOPE"}, format="json")
    assert response.status_code == 400 and "sku" in response.json()["error"]


def test_mapping_another_shops_listing_answers_404(ops, shops):
    listing = ListingFactory(shop=shops[1], product=None)
    response = api_client_for(ops).post(f"/api/v1/listings/{listing.pk}/map/", {"sku": "X"}, format="json")
    assert response.status_code == 404


@pytest.mark.parametrize("url", ["/api/v1/shops/", "/api/v1/listings/", "/api/v1/platforms/"])
def test_list_query_count_does_not_grow_with_rows(url):
    admin = UserFactory(username="boss3", roles=["管理员"])
    client = api_client_for(admin)
    shop = ShopFactory()
    ListingFactory(shop=shop)
    one = count_queries(lambda: client.get(url))
    for n in range(19):
        ListingFactory(shop=ShopFactory(platform=PlatformFactory(code=f"p{n}")))
    twenty = count_queries(lambda: client.get(url))
    assert one == twenty
