import datetime as dt
from decimal import Decimal

import pytest
import tablib
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.resources import import_errors
from apps.finance.models import ExchangeRate, Expense
from apps.finance.resources import ExchangeRateResource, ExpenseResource
from apps.finance.tests.factories import CurrencyFactory, ExchangeRateFactory, ExpenseFactory, base_currency
from apps.platforms.tests.factories import ShopFactory
from apps.users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def load(text: str) -> tablib.Dataset:
    return tablib.Dataset().load(text, format="csv")


@pytest.fixture
def usd():
    base_currency()
    usd = CurrencyFactory(code="USD")
    ExchangeRateFactory(currency=usd, rate_date=dt.date(2025, 1, 2), rate=Decimal("7.10000000"))
    return usd


# Exchange rates --------------------------------------------------------------------------------

def test_exchange_rates_round_trip_and_reimport_unchanged(usd):
    ExchangeRateFactory(currency=CurrencyFactory(code="EUR"), rate_date=dt.date(2025, 1, 2), rate=Decimal("7.65432100"))
    first = ExchangeRateResource().export().csv
    ExchangeRate.objects.filter(currency="EUR").delete()
    ExchangeRate.objects.filter(currency="USD").update(rate=Decimal("1"), source="changed")

    result = ExchangeRateResource().import_data(load(first))

    assert import_errors(result) == []
    assert ExchangeRateResource().export().csv == first
    assert "EUR,CNY,2025-01-02,7.65432100,test" in first
    assert ExchangeRateResource().import_data(load(first)).totals["skip"] == 2


def test_bad_exchange_rate_rows_are_rejected_with_reasons_and_nothing_is_written(usd):
    text = (
        "currency,base_currency,rate_date,rate,source\n"
        "usd,CNY,2025-01-03,7.11,bank\n"
        "JPY,CNY,2025-02-30,0,bank\n"
        "USD,CNY,2025-01-04,-7,bank\n"
    )

    result = ExchangeRateResource().import_data(load(text))

    assert ExchangeRate.objects.count() == 1
    errors = {(e["row"], e["column"]): e["message"] for e in import_errors(result)}
    assert errors == {
        (2, "currency"): "未知币种：JPY。",
        (2, "rate_date"): "「2025-02-30」不是有效的日期，应为 YYYY-MM-DD。",
        (3, "rate"): "不能为负数（当前 -7）。",
    }


def test_a_zero_rate_is_rejected(usd):
    result = ExchangeRateResource().import_data(load("currency,base_currency,rate_date,rate\nUSD,CNY,2025-01-03,0\n"))

    assert [e["message"] for e in import_errors(result)] == ["汇率必须大于 0（当前 0）。"]


# Expenses --------------------------------------------------------------------------------------

EXPENSES = (
    "expense_date,category,shop,description,currency,amount\n"
    "2025-01-02,advertising,us-store,Google Ads 一月,USD,100.00\n"
    "2025-01-03,物流运费,,头程运费,CNY,880.50\n"
)


def test_importing_expenses_computes_the_base_amount_at_the_days_rate(usd):
    ShopFactory(code="us-store")
    user = UserFactory()

    result = ExpenseResource().import_data(load(EXPENSES), user=user)

    assert import_errors(result) == []
    ads = Expense.objects.get(category=Expense.Category.ADVERTISING)
    assert (ads.exchange_rate, ads.amount_base, ads.status, ads.submitted_by) == (
        Decimal("7.1"), Decimal("710.00"), Expense.Status.SUBMITTED, user
    )
    freight = Expense.objects.get(category=Expense.Category.LOGISTICS)  # the Chinese label works too
    assert (freight.shop, freight.exchange_rate, freight.amount_base) == (None, Decimal("1"), Decimal("880.50"))


def test_expenses_round_trip_and_reimport_unchanged(usd):
    ShopFactory(code="us-store")
    ExpenseResource().import_data(load(EXPENSES))
    first = ExpenseResource().export().csv
    Expense.objects.filter(category=Expense.Category.LOGISTICS).delete()
    Expense.objects.filter(category=Expense.Category.ADVERTISING).update(amount=Decimal("1"), amount_base=0)

    result = ExpenseResource().import_data(load(first))

    assert import_errors(result) == []
    assert ExpenseResource().export().csv == first
    assert ExpenseResource().import_data(load(first)).totals["skip"] == 2


def test_an_expense_in_a_currency_without_a_rate_is_rejected_naming_currency_and_date(usd):
    CurrencyFactory(code="GBP")
    text = EXPENSES.replace("us-store", "") + "2025-01-02,rent,,仓库租金,GBP,300\n"

    result = ExpenseResource().import_data(load(text))

    [error] = import_errors(result)
    assert (error["row"], error["column"]) == (3, "currency")
    assert "GBP" in error["message"] and "2025-01-02" in error["message"]
    assert Expense.objects.count() == 0


def test_an_approved_expense_cannot_be_changed_by_import(usd):
    ExpenseFactory(expense_date=dt.date(2025, 1, 2), category=Expense.Category.RENT, description="房租",
                   amount=Decimal("100.00"), status=Expense.Status.APPROVED)
    text = "expense_date,category,shop,description,currency,amount\n2025-01-02,rent,,房租,CNY,999\n"

    result = ExpenseResource().import_data(load(text))

    [error] = import_errors(result)
    assert error["message"] == "该费用状态为「已批准」，只有待审批的费用可以通过导入修改。"
    assert Expense.objects.get().amount == Decimal("100.00")


def test_bad_expense_rows_are_rejected_with_reasons(usd):
    text = (
        "expense_date,category,shop,description,currency,amount\n"
        "2025-01-02,rent,,ok,CNY,1\n"
        "yesterday,party,ghost-shop,,CNY,0\n"
    )

    result = ExpenseResource().import_data(load(text))

    assert Expense.objects.count() == 0
    errors = {(e["row"], e["column"]): e["message"] for e in import_errors(result)}
    assert errors[(2, "expense_date")] == "「yesterday」不是有效的日期，应为 YYYY-MM-DD。"
    assert errors[(2, "category")].startswith("「party」不是有效的选项")
    assert errors[(2, "shop")] == "未知店铺：ghost-shop。"
    assert errors[(2, "description")] == "不能为空。"


def test_exports_cost_the_same_queries_for_one_or_many_rows(usd):
    def queries(resource):
        with CaptureQueriesContext(connection) as captured:
            resource.export()
        return len(captured)

    ShopFactory(code="us-store")
    ExpenseResource().import_data(load(EXPENSES.splitlines()[0] + "\n" + EXPENSES.splitlines()[1] + "\n"))
    one = (queries(ExchangeRateResource()), queries(ExpenseResource()))
    for day in (3, 4, 5):
        ExchangeRateFactory(currency=usd, rate_date=dt.date(2025, 1, day))
    ExpenseResource().import_data(load(EXPENSES))

    assert (queries(ExchangeRateResource()), queries(ExpenseResource())) == one
