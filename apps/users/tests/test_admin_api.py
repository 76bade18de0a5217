import pytest
from django.contrib.auth.models import Group

from apps.core.testing import api_client_for, count_queries
from apps.platforms.tests.factories import ShopFactory
from apps.users.models import Role, User

from .factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return UserFactory(username="boss", roles=["管理员"])


def test_an_admin_creates_a_user_with_roles_and_shops(admin):
    shop = ShopFactory()
    ops = Group.objects.get(name="运营")
    response = api_client_for(admin).post("/api/v1/users/", {
        "username": "xiaoli", "email": "li@example.com", "password": "Strong-pass-2025", "roles": [ops.pk],
        "shops": [shop.pk],
    }, format="json")
    assert response.status_code == 201, response.content
    user = User.objects.get(username="xiaoli")
    assert user.check_password("Strong-pass-2025")
    assert list(user.groups.values_list("name", flat=True)) == ["运营"]
    assert list(user.shops.all()) == [shop]
    assert "password" not in response.json()["data"]


def test_a_weak_password_is_refused_when_creating_a_user(admin):
    response = api_client_for(admin).post("/api/v1/users/", {"username": "w", "password": "123"}, format="json")
    assert response.status_code == 400 and "password" in response.json()["error"]


def test_an_admin_cannot_delete_themselves(admin):
    response = api_client_for(admin).delete(f"/api/v1/users/{admin.pk}/")
    assert response.status_code == 400 and User.objects.filter(pk=admin.pk).exists()


@pytest.mark.parametrize("role", ["运营", "仓库", "财务", "只读"])
def test_non_admin_roles_cannot_manage_users_or_roles(role):
    client = api_client_for(UserFactory(username="someone", roles=[role]))
    assert client.get("/api/v1/users/").status_code == 403
    assert client.get("/api/v1/roles/").status_code == 403


def test_roles_list_their_permissions(admin):
    rows = api_client_for(admin).get("/api/v1/roles/").json()["data"]["items"]
    finance = next(r for r in rows if r["code"] == "finance")
    assert "finance.approve_expense" in finance["permissions"] and finance["is_system"]


def test_a_custom_role_is_created_with_permissions_and_can_be_deleted(admin):
    client = api_client_for(admin)
    response = client.post("/api/v1/roles/", {
        "code": "buyer", "name": "采购员", "permissions": ["inventory.view_product", "inventory.add_purchaseorder"],
    }, format="json")
    assert response.status_code == 201, response.content
    group = Group.objects.get(name="采购员")
    assert group.permissions.count() == 2
    assert client.delete(f"/api/v1/roles/{group.pk}/").status_code == 204
    assert not Group.objects.filter(name="采购员").exists()


def test_an_unknown_permission_is_a_field_error(admin):
    response = api_client_for(admin).post("/api/v1/roles/", {"code": "x", "name": "X", "permissions": ["nope.nothing"]},
                                          format="json")
    assert response.status_code == 400 and "permissions" in response.json()["error"]
    assert not Role.objects.filter(code="x").exists()


def test_a_predefined_role_cannot_be_deleted(admin):
    role = Role.objects.get(code="readonly")
    assert api_client_for(admin).delete(f"/api/v1/roles/{role.pk}/").status_code == 409


@pytest.mark.parametrize("url", ["/api/v1/users/", "/api/v1/roles/"])
def test_user_and_role_lists_cost_the_same_for_1_and_20_rows(admin, url):
    client = api_client_for(admin)
    one = count_queries(lambda: client.get(url))
    for n in range(19):
        user = UserFactory(username=f"u{n}", roles=["运营"])
        user.shops.add(ShopFactory())
        Role.objects.create(group=Group.objects.create(name=f"g{n}"), code=f"g{n}")
    assert count_queries(lambda: client.get(url)) == one
