"""A request reads the user's permissions and shop reach in one query (apps.users.access), with
the same answers as Django's ModelBackend and the roles, and a changed role applies to the next request."""
import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.testing import api_client_for
from apps.users.access import user_access_load
from apps.users.models import Role, User

from .factories import UserFactory

pytestmark = pytest.mark.django_db


def fresh(user) -> User:
    return User.objects.get(pk=user.pk)


@pytest.mark.parametrize("roles", [["运营"], ["仓库", "财务"], ["只读"], [], ["管理员"]])
def test_one_query_reads_what_the_backend_and_the_roles_would_answer(roles):
    user = UserFactory(roles=roles)
    user.user_permissions.add(Permission.objects.get(codename="approve_expense"))
    loaded = fresh(user)
    with CaptureQueriesContext(connection) as queries:
        user_access_load(loaded)
        permissions, all_shops = loaded.get_all_permissions(), loaded.sees_all_shops
    assert len(queries) == 1
    expected = fresh(user)
    assert permissions == expected.get_all_permissions() and "finance.approve_expense" in permissions
    assert all_shops == expected.sees_all_shops == ("管理员" in roles)


def test_a_role_spanning_all_shops_counts_even_without_permissions():
    group = Group.objects.create(name="巡店")
    Role.objects.create(group=group, code="auditor", spans_all_shops=True)
    user = UserFactory()
    user.groups.add(group)
    loaded = fresh(user)
    user_access_load(loaded)
    assert loaded.sees_all_shops and loaded.get_all_permissions() == set()


def test_a_role_granted_between_requests_applies_to_the_next_one():
    user = UserFactory(roles=["仓库"])
    client = api_client_for(user)
    assert client.get("/api/v1/expenses/").status_code == 403
    user.groups.add(Group.objects.get(name="财务"))
    assert client.get("/api/v1/expenses/").status_code == 200


def test_the_schema_describes_the_bearer_scheme():
    schema = api_client_for(UserFactory(roles=["管理员"])).get("/api/schema/?format=json").json()
    assert schema["components"]["securitySchemes"]["jwtAuth"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert {"jwtAuth": []} in schema["paths"]["/api/v1/orders/"]["get"]["security"]
