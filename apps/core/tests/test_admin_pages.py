"""Every admin page of our apps opens, finds what it lists, and keeps secrets and ledgers safe."""
import datetime as dt
import itertools
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django import forms
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.finance.models import Expense, FinancialRecord
from apps.finance.tests import factories as finance
from apps.inventory.models import InventoryItem, PurchaseOrder, StockMovement
from apps.inventory.services import stock_level_set
from apps.inventory.tests import factories as inventory
from apps.platforms.models import Shop
from apps.sales.models import Order, SalesDaily
from apps.platforms.tests import factories as platforms
from apps.sales.tests import factories as sales
from apps.users.models import AuditLog, Role, User, UserRole
from apps.users.tests.factories import AdminUserFactory, AuditLogFactory, UserFactory

OUR_APPS = ("users", "platforms", "sales", "inventory", "finance")
SECRET = "shpat_test_secret_9876"
DAYS = itertools.count()


def _user_role():
    user = UserFactory(roles=["运营"])
    return UserRole.objects.get(user=user)


def _order():
    line = sales.OrderLineFactory()
    return line.order


# One way to make a listed object per admin-registered model; a model registered without an
# entry here fails `test_every_registered_model_has_an_example_object`.
EXAMPLES = {
    "auth.group": lambda: Group.objects.get(name="运营"),
    "users.user": lambda: UserFactory(display_name="王小明", phone="13800000000"),
    "users.role": lambda: Role.objects.get(code="operations"),
    "users.userrole": _user_role,
    "users.auditlog": AuditLogFactory,
    "platforms.platform": lambda: platforms.PlatformFactory(code="amazon"),
    "platforms.shop": platforms.ShopFactory,
    "platforms.listing": platforms.ListingFactory,
    "platforms.collectionrun": platforms.CollectionRunFactory,
    "platforms.quarantinedrecord": platforms.QuarantinedRecordFactory,
    "platforms.importjob": platforms.ImportJobFactory,
    "sales.customer": sales.CustomerFactory,
    "sales.salesperson": lambda: sales.SalesTargetFactory().salesperson,
    "sales.salestarget": sales.SalesTargetFactory,
    "sales.order": _order,
    "sales.orderline": sales.OrderLineFactory,
    "sales.salesdaily": sales.SalesDailyFactory,
    "sales.skusalesdaily": sales.SkuSalesDailyFactory,
    "inventory.category": inventory.CategoryFactory,
    "inventory.product": lambda: inventory.BundleComponentFactory().bundle,
    "inventory.bundlecomponent": inventory.BundleComponentFactory,
    "inventory.warehouse": inventory.WarehouseFactory,
    "inventory.inventoryitem": inventory.InventoryItemFactory,
    "inventory.stockmovement": inventory.StockMovementFactory,
    "inventory.stockadjustment": inventory.StockAdjustmentFactory,
    "inventory.stocktransfer": inventory.StockTransferFactory,
    "inventory.supplier": inventory.SupplierFactory,
    "inventory.purchaseorder": lambda: inventory.PurchaseOrderLineFactory().purchase_order,
    "inventory.purchaseorderline": inventory.PurchaseOrderLineFactory,
    "inventory.shipment": lambda: inventory.ShipmentLineFactory().shipment,
    "inventory.shipmentline": inventory.ShipmentLineFactory,
    "finance.currency": lambda: finance.CurrencyFactory(code="EUR", name="欧元"),
    "finance.exchangerate": lambda: finance.ExchangeRateFactory(
        rate_date=dt.date(2025, 1, 1) + dt.timedelta(next(DAYS))
    ),
    "finance.financialrecord": finance.FinancialRecordFactory,
    "finance.expense": finance.ExpenseFactory,
    "finance.revenue": lambda: finance.RevenueFactory(description="平台补贴"),
}

ADMIN_MODELS = sorted(
    (model for model in admin.site._registry if model._meta.app_label in OUR_APPS or model is Group),
    key=lambda model: model._meta.label_lower,
)


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _search_term(model_admin, obj) -> str:
    """The value of the first search field that has one on `obj` (following `__` relations)."""
    for lookup in model_admin.search_fields:
        value = obj
        for part in lookup.lstrip("^=@").split("__"):
            value = getattr(value, part, None)
        if value not in (None, ""):
            return str(value)
    raise AssertionError(f"{type(obj).__name__} has no value in any search field")


@pytest.fixture
def admin_client(client, db):
    client.force_login(AdminUserFactory())
    return client


def _admin_request():
    request = RequestFactory().get("/")
    request.user = AdminUserFactory()
    return request


def test_every_model_of_our_apps_is_registered_in_admin():
    ours = {model for label in OUR_APPS for model in apps.get_app_config(label).get_models()}

    missing = sorted(model._meta.label for model in ours - set(admin.site._registry))

    assert missing == []


def test_every_registered_model_has_an_example_object():
    assert sorted(m._meta.label_lower for m in ADMIN_MODELS) == sorted(EXAMPLES)


@pytest.mark.parametrize("model", ADMIN_MODELS, ids=lambda m: m._meta.label_lower)
def test_changelist_lists_finds_and_opens_an_object(admin_client, model):
    obj = EXAMPLES[model._meta.label_lower]()
    model_admin = admin.site._registry[model]
    change_url = _url(model, "change", obj.pk)
    assert model_admin.search_fields, f"{model._meta.label} admin needs search_fields"

    listing = admin_client.get(_url(model, "changelist"))
    found = admin_client.get(_url(model, "changelist") + "?" + urlencode({"q": _search_term(model_admin, obj)}))
    missed = admin_client.get(_url(model, "changelist") + "?" + urlencode({"q": "无此内容-zzz"}))
    change = admin_client.get(change_url)

    assert listing.status_code == 200 and change_url in listing.content.decode()
    assert found.status_code == 200 and change_url in found.content.decode()
    assert missed.status_code == 200 and change_url not in missed.content.decode()
    assert change.status_code == 200


@pytest.mark.parametrize("model", ADMIN_MODELS, ids=lambda m: m._meta.label_lower)
def test_add_page_opens_where_adding_is_allowed(admin_client, model):
    if not admin.site._registry[model].has_add_permission(_admin_request()):
        assert admin_client.get(_url(model, "add")).status_code == 403
        return

    assert admin_client.get(_url(model, "add")).status_code == 200


# Users and roles --------------------------------------------------------------------------------

def test_the_user_form_sets_roles_and_visible_shops(admin_client):
    user = UserFactory(display_name="旧名")
    shop = platforms.ShopFactory()
    operations = Group.objects.get(name="运营")

    response = admin_client.post(_url(User, "change", user.pk), {
        "username": user.username, "display_name": "王小明", "phone": "13800000000", "email": user.email,
        "first_name": "", "last_name": "", "roles": [operations.pk], "shops": [shop.pk], "is_active": "on",
        "date_joined_0": "2025-01-01", "date_joined_1": "08:00:00",
    })

    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()
    assert (user.display_name, user.phone) == ("王小明", "13800000000")
    assert list(user.groups.all()) == [operations] and list(user.shops.all()) == [shop]
    assert UserRole.objects.filter(user=user, group=operations).exists()


def test_a_role_created_in_admin_is_a_group_with_its_permissions(admin_client):
    view_order = Permission.objects.get(codename="view_order")

    response = admin_client.post(_url(Role, "add"), {
        "name": "客服", "code": "support", "description": "只看订单", "permissions": [view_order.pk],
    })

    assert response.status_code == 302
    role = Role.objects.get(code="support")
    assert role.group.name == "客服" and list(role.group.permissions.all()) == [view_order]
    assert not role.is_system


def test_predefined_roles_cannot_be_deleted_in_admin(admin_client):
    role = Role.objects.get(code="operations")

    assert admin_client.post(_url(Role, "delete", role.pk), {"post": "yes"}).status_code == 403
    assert Role.objects.filter(code="operations").exists()


# Shop credentials --------------------------------------------------------------------------------

def _shop_form(shop: Shop, **changes) -> dict:
    data = {
        "platform": shop.platform_id, "name": shop.name, "code": shop.code, "external_id": shop.external_id,
        "marketplace": shop.marketplace, "country": shop.country, "currency": shop.currency_id,
        "timezone": shop.timezone, "salesperson": "", "default_warehouse": "",
        "platform_fee_rate": str(shop.platform_fee_rate), "is_active": "on", "api_base_url": "",
        "auth_status": shop.auth_status, "credentials": "",
    }
    data.update(changes)
    return data


def test_shop_pages_never_show_the_raw_secret_but_show_it_masked(admin_client):
    shop = platforms.ShopFactory()

    pages = [
        admin_client.get(_url(Shop, "changelist")),
        admin_client.get(_url(Shop, "change", shop.pk)),
        admin_client.get(_url(Shop, "history", shop.pk)),
    ]

    for page in pages:
        assert page.status_code == 200 and SECRET not in page.content.decode()
    assert "access_token: ••••••••9876" in pages[1].content.decode()


def test_a_view_only_user_sees_the_shop_with_masked_credentials(client, db):
    shop = platforms.ShopFactory()
    client.force_login(UserFactory(is_staff=True, roles=["仓库"]))

    page = client.get(_url(Shop, "change", shop.pk))

    assert page.status_code == 200
    assert SECRET not in page.content.decode() and "••••••••9876" in page.content.decode()


def test_saving_a_shop_with_empty_credentials_keeps_the_stored_ones(admin_client):
    shop = platforms.ShopFactory()

    response = admin_client.post(_url(Shop, "change", shop.pk), _shop_form(shop, name="新名字"))

    assert response.status_code == 302
    shop.refresh_from_db()
    assert shop.name == "新名字" and shop.credentials == {"access_token": SECRET}
    change_log = LogEntry.objects.get(object_id=str(shop.pk))
    assert SECRET not in change_log.change_message and "凭证" not in change_log.get_change_message()


def test_saving_a_shop_with_a_json_object_replaces_the_credentials(admin_client):
    shop = platforms.ShopFactory()

    response = admin_client.post(
        _url(Shop, "change", shop.pk), _shop_form(shop, credentials='{"api_key": "new-key-1234"}')
    )

    assert response.status_code == 302
    shop.refresh_from_db()
    assert shop.credentials == {"api_key": "new-key-1234"}
    history = admin_client.get(_url(Shop, "history", shop.pk)).content.decode()
    assert "new-key-1234" not in history and SECRET not in history


@pytest.mark.parametrize("typed", ['{"api_key": "typed-secret-5555"', '["typed-secret-5555"]'])
def test_invalid_credentials_json_is_a_form_error_and_nothing_changes(admin_client, typed):
    shop = platforms.ShopFactory()

    response = admin_client.post(_url(Shop, "change", shop.pk), _shop_form(shop, credentials=typed))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["credentials"]
    assert errors and ("不是有效的 JSON" in errors[0] or "必须是 JSON 对象" in errors[0])
    assert "typed-secret-5555" not in response.content.decode()
    shop.refresh_from_db()
    assert shop.credentials == {"access_token": SECRET}


# Read-only ledgers and stock ------------------------------------------------------------------

def test_the_stock_ledger_cannot_be_added_changed_or_deleted_in_admin(admin_client):
    movement = inventory.StockMovementFactory()

    assert admin_client.get(_url(StockMovement, "add")).status_code == 403
    assert admin_client.post(_url(StockMovement, "change", movement.pk), {"quantity": 99}).status_code == 403
    assert admin_client.post(_url(StockMovement, "delete", movement.pk), {"post": "yes"}).status_code == 403
    movement.refresh_from_db()
    assert movement.quantity == 5


@pytest.mark.parametrize("label", ["sales.salesdaily", "sales.skusalesdaily", "users.auditlog",
                                   "inventory.stockmovement"])
def test_rollups_logs_and_ledger_are_view_only(db, label):
    model_admin = admin.site._registry[apps.get_model(label)]
    request = _admin_request()

    assert model_admin.has_view_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_only_the_reorder_point_of_a_stock_row_can_be_changed_in_admin(admin_client):
    item = inventory.InventoryItemFactory()
    stock_level_set(product=item.product, warehouse=item.warehouse, on_hand=10)

    response = admin_client.post(
        _url(InventoryItem, "change", item.pk),
        {"on_hand": 999, "reserved": 5, "reorder_point": 7, "product": 1, "warehouse": 1},
    )

    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.on_hand, item.reserved, item.reorder_point) == (10, 0, 7)


def test_adding_a_stock_adjustment_in_admin_posts_it_to_the_ledger(admin_client):
    item = inventory.InventoryItemFactory()

    response = admin_client.post(
        reverse("admin:inventory_stockadjustment_add"),
        {"product": item.product_id, "warehouse": item.warehouse_id, "quantity_change": 6, "reason": "found"},
    )

    assert response.status_code == 302
    item.refresh_from_db()
    assert item.on_hand == 6
    assert StockMovement.objects.get(product=item.product).balance_after == 6


def test_approving_a_purchase_order_from_the_list_runs_the_approval(admin_client):
    po = inventory.PurchaseOrderLineFactory().purchase_order
    empty = inventory.PurchaseOrderFactory()

    admin_client.post(
        _url(PurchaseOrder, "changelist"), {"action": "approve", "_selected_action": [po.pk, empty.pk]}
    )

    po.refresh_from_db()
    empty.refresh_from_db()
    assert po.status == PurchaseOrder.Status.APPROVED and po.approved_at is not None
    assert empty.status == PurchaseOrder.Status.DRAFT  # no lines: refused by the service


def test_adding_an_expense_in_admin_submits_it_at_the_days_rate(admin_client):
    usd = finance.ExchangeRateFactory(rate_date=dt.date(2025, 1, 2), rate=Decimal("7.10000000")).currency

    response = admin_client.post(reverse("admin:finance_expense_add"), {
        "category": "advertising", "expense_date": "2025-01-03", "currency": usd.pk, "amount": "100",
        "description": "广告费",
    })

    assert response.status_code == 302
    expense = Expense.objects.get()
    assert (expense.exchange_rate, expense.amount_base, expense.status) == (
        Decimal("7.1"), Decimal("710.00"), Expense.Status.SUBMITTED
    )
    assert expense.submitted_by.username == "admin-test"
    assert AuditLog.objects.filter(action="expense.submit", object_id=str(expense.pk)).exists()


def test_an_expense_in_a_currency_without_a_rate_is_a_form_error(admin_client):
    finance.base_currency()
    gbp = finance.CurrencyFactory(code="GBP")

    response = admin_client.post(reverse("admin:finance_expense_add"), {
        "category": "rent", "expense_date": "2025-01-03", "currency": gbp.pk, "amount": "100", "description": "房租",
    })

    assert response.status_code == 200
    assert "GBP" in response.context["adminform"].form.errors["currency"][0]
    assert not Expense.objects.exists()


def test_approving_expenses_from_the_list_runs_the_approval(admin_client):
    expense = finance.ExpenseFactory()

    admin_client.post(reverse("admin:finance_expense_changelist"), {"action": "approve",
                                                                   "_selected_action": [expense.pk]})

    expense.refresh_from_db()
    assert expense.status == Expense.Status.APPROVED and expense.reviewed_by.username == "admin-test"
    assert admin_client.get(_url(Expense, "change", expense.pk)).status_code == 200  # now view only
    assert not admin.site._registry[Expense].has_change_permission(_admin_request(), expense)


def _bound_data(form, data: dict) -> None:
    """What a browser would post back for an unchanged form."""
    for name, field in form.fields.items():
        key, value, widget = form.add_prefix(name), form[name].value(), field.widget
        if isinstance(widget, forms.MultiWidget):
            for index, part in enumerate(widget.decompress(value)):
                data[f"{key}_{index}"] = "" if part is None else part
        elif isinstance(widget, forms.CheckboxInput):
            if value:
                data[key] = "on"
        elif value is not None:
            data[key] = value


def _change_form_data(response) -> dict:
    data: dict = {}
    _bound_data(response.context["adminform"].form, data)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        _bound_data(formset.management_form, data)
        for form in formset.forms:
            _bound_data(form, data)
    return data


def test_editing_an_order_in_admin_reconverts_it_and_refreshes_books_and_rollups(admin_client):
    usd = finance.ExchangeRateFactory(rate_date=dt.date(2025, 1, 2), rate=Decimal("7.10000000")).currency
    order = sales.OrderLineFactory(order__shop=platforms.ShopFactory(currency=usd), line_total=Decimal("100")).order
    url = _url(Order, "change", order.pk)
    data = _change_form_data(admin_client.get(url))
    data.update({"total_amount": "120.00", "items_amount": "120.00", "lines-0-line_total": "120.00"})

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    order.refresh_from_db()
    assert (order.total_amount_base, order.lines.get().line_total_base) == (Decimal("852.00"), Decimal("852.00"))
    assert SalesDaily.objects.get(shop=order.shop).gross_sales_base == Decimal("852.00")
    assert FinancialRecord.objects.get(order=order, record_type="sale").amount_base == Decimal("852.00")


# Query counts ---------------------------------------------------------------------------------

def _changelist_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("model", ADMIN_MODELS, ids=lambda m: m._meta.label_lower)
def test_changelist_query_count_does_not_grow_with_rows(admin_client, model):
    make = EXAMPLES[model._meta.label_lower]
    make()
    url = _url(model, "changelist")
    one = _changelist_queries(admin_client, url)
    for _ in range(19):
        make()

    assert _changelist_queries(admin_client, url) == one


def test_order_changelist_costs_the_same_for_one_and_twenty_orders(admin_client):
    shop = platforms.ShopFactory()
    sales.OrderFactory(shop=shop, ordered_at=dt.datetime(2025, 1, 2, tzinfo=dt.UTC), total_amount=Decimal("5"))
    url = _url(apps.get_model("sales.order"), "changelist")
    one = _changelist_queries(admin_client, url)
    for n in range(19):
        sales.OrderFactory(shop=platforms.ShopFactory(), customer=sales.CustomerFactory(),
                           ordered_at=dt.datetime(2025, 1, 2, n, tzinfo=dt.UTC))

    assert _changelist_queries(admin_client, url) == one
