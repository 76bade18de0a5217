import pytest
from django.contrib.auth.models import Group

from apps.users.roles import ROLE_DEFINITIONS

from .factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_five_predefined_roles_exist_with_their_codes():
    roles = {g.name: g.role.code for g in Group.objects.select_related("role")}
    assert roles == {"管理员": "admin", "运营": "operations", "仓库": "warehouse", "财务": "finance", "只读": "readonly"}


def test_admin_role_holds_every_permission_and_spans_all_shops():
    from django.contrib.auth.models import Permission

    admin = Group.objects.get(name="管理员")
    assert admin.permissions.count() == Permission.objects.count()
    assert admin.role.spans_all_shops


@pytest.mark.parametrize(
    "role, granted, refused",
    [
        ("运营", ["sales.change_order", "platforms.change_listing", "inventory.add_product"],
         ["finance.change_expense", "inventory.add_stockadjustment"]),
        ("仓库", ["inventory.add_stockadjustment", "inventory.change_purchaseorder", "inventory.view_product"],
         ["inventory.change_product", "sales.change_order", "finance.view_expense"]),
        ("财务", ["finance.approve_expense", "finance.change_expense", "sales.view_order", "finance.view_profit"],
         ["sales.change_order", "inventory.change_inventoryitem"]),
        ("只读", ["sales.view_order", "inventory.view_stockmovement", "finance.view_expense"],
         ["sales.change_order", "sales.add_order", "finance.approve_expense", "users.view_user"]),
    ],
)
def test_each_role_grants_what_its_name_implies(role, granted, refused):
    user = UserFactory(roles=[role])
    for perm in granted:
        assert user.has_perm(perm), f"{role} should have {perm}"
    for perm in refused:
        assert not user.has_perm(perm), f"{role} should not have {perm}"


def test_roles_are_stored_in_user_roles():
    from django.db import connection

    user = UserFactory(roles=["财务"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM user_roles WHERE user_id = %s", [user.pk])
        assert cursor.fetchone()[0] == 1
    assert len(ROLE_DEFINITIONS) == 5


def test_only_admin_role_sees_all_shops():
    assert UserFactory(roles=["管理员"]).sees_all_shops
    assert not UserFactory(roles=["运营"]).sees_all_shops
