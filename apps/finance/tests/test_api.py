import datetime as dt
from decimal import Decimal

import pytest

from apps.core.testing import api_client_for, count_queries
from apps.finance.models import Expense
from apps.platforms.tests.factories import ShopFactory
from apps.users.models import AuditLog
from apps.users.tests.factories import UserFactory

from .factories import (
    CurrencyFactory,
    ExchangeRateFactory,
    ExpenseFactory,
    FinancialRecordFactory,
    RevenueFactory,
    base_currency,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def usd():
    usd = CurrencyFactory(code="USD")
    ExchangeRateFactory(currency=usd, rate_date=dt.date(2025, 6, 2), rate=Decimal("7.2"))
    return usd


@pytest.fixture
def finance():
    return UserFactory(username="fin", roles=["财务"])


def submit(client, **overrides):
    payload = {"category": "advertising", "expense_date": "2025-06-02", "currency": "USD", "amount": "100.00",
               "description": "Google Ads"}
    payload.update(overrides)
    return client.post("/api/v1/expenses/", payload, format="json")


def test_an_expense_is_converted_to_base_currency_at_the_days_rate(finance, usd):
    response = submit(api_client_for(finance))
    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert (data["amount_base"], data["exchange_rate"], data["status"]) == ("720.00", "7.20000000", "submitted")


def test_an_expense_on_a_day_without_a_rate_is_a_clear_400(finance, usd):
    response = submit(api_client_for(finance), expense_date="2025-01-01")
    body = response.json()
    assert response.status_code == 400 and "USD" in body["message"] and "2025-01-01" in body["message"]
    assert not Expense.objects.exists()


def test_finance_approves_an_expense_and_the_action_is_audited(finance, usd):
    client = api_client_for(finance)
    expense_id = submit(client).json()["data"]["id"]
    response = client.post(f"/api/v1/expenses/{expense_id}/approve/")
    assert response.json()["data"]["status"] == "approved"
    assert AuditLog.objects.filter(action="expense.approved", object_id=str(expense_id)).exists()
    assert client.post(f"/api/v1/expenses/{expense_id}/approve/").status_code == 409


def test_rejecting_needs_a_reason(finance, usd):
    client = api_client_for(finance)
    expense_id = submit(client).json()["data"]["id"]
    assert client.post(f"/api/v1/expenses/{expense_id}/reject/", {"reason": ""}, format="json").status_code == 400
    response = client.post(f"/api/v1/expenses/{expense_id}/reject/", {"reason": "发票缺失"}, format="json")
    assert response.json()["data"]["status"] == "rejected"
    assert response.json()["data"]["rejection_reason"] == "发票缺失"


def test_a_reviewed_expense_cannot_be_edited(finance, usd):
    client = api_client_for(finance)
    expense_id = submit(client).json()["data"]["id"]
    client.post(f"/api/v1/expenses/{expense_id}/approve/")
    assert client.patch(f"/api/v1/expenses/{expense_id}/", {"amount": "1.00"}, format="json").status_code == 409


def test_operations_cannot_approve_expenses(usd):
    expense = ExpenseFactory(currency=usd, amount=Decimal("10"), amount_base=Decimal("72"))
    ops = api_client_for(UserFactory(username="ops", roles=["运营"]))
    assert ops.post(f"/api/v1/expenses/{expense.pk}/approve/").status_code == 403
    assert Expense.objects.get(pk=expense.pk).status == "submitted"


def test_a_negative_amount_is_a_field_error(finance, usd):
    response = submit(api_client_for(finance), amount="-5")
    assert response.status_code == 400 and "amount" in response.json()["error"]


def test_expenses_of_another_shop_are_invisible_but_company_wide_ones_are_shown(finance):
    base_currency()
    mine, theirs = ShopFactory(), ShopFactory()
    finance.shops.add(mine)
    visible = {ExpenseFactory(shop=mine).pk, ExpenseFactory(shop=None).pk}
    hidden = ExpenseFactory(shop=theirs)
    client = api_client_for(finance)
    ids = {row["id"] for row in client.get("/api/v1/expenses/").json()["data"]["items"]}
    assert ids == visible
    assert client.get(f"/api/v1/expenses/{hidden.pk}/").status_code == 404


def test_revenue_is_converted_on_write(finance, usd):
    response = api_client_for(finance).post(
        "/api/v1/revenues/",
        {"source": "platform_subsidy", "revenue_date": "2025-06-02", "currency": "USD", "amount": "10.00"},
        format="json",
    )
    assert response.status_code == 201 and response.json()["data"]["amount_base"] == "72.00"


def test_an_exchange_rate_must_be_positive(finance, usd):
    base_currency()
    response = api_client_for(finance).post(
        "/api/v1/exchange-rates/", {"currency": "USD", "base_currency": "CNY", "rate_date": "2025-06-03", "rate": "0"},
        format="json",
    )
    assert response.status_code == 400 and "rate" in response.json()["error"]


def test_a_currency_code_must_be_iso_4217(finance):
    response = api_client_for(finance).post("/api/v1/currencies/", {"code": "usd", "name": "x"}, format="json")
    assert response.status_code == 400 and "code" in response.json()["error"]


@pytest.mark.parametrize("url", ["/api/v1/expenses/", "/api/v1/exchange-rates/", "/api/v1/currencies/",
                                 "/api/v1/financial-records/", "/api/v1/revenues/"])
def test_finance_lists_cost_the_same_for_1_and_20_rows(url, finance, usd):
    client = api_client_for(UserFactory(username="adm", roles=["管理员"]))
    def add(n):
        shop = ShopFactory()
        ExpenseFactory(currency=usd, shop=shop)
        FinancialRecordFactory(shop=shop)
        RevenueFactory(shop=shop)
        ExchangeRateFactory(currency=usd, rate_date=dt.date(2025, 1, 1) + dt.timedelta(days=n))
        CurrencyFactory(code=f"X{chr(65 + n)}A")

    add(0)
    one = count_queries(lambda: client.get(url))
    for n in range(1, 20):
        add(n)
    rows = client.get(url).json()["data"]["total"]
    assert rows >= 20
    assert count_queries(lambda: client.get(url)) == one
