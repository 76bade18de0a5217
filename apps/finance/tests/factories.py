import datetime as dt
from decimal import Decimal

import factory
from django.conf import settings

from apps.finance.models import Currency, ExchangeRate, Expense, FinancialRecord, Revenue


class CurrencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Currency
        django_get_or_create = ("code",)

    code = "USD"
    name = factory.LazyAttribute(lambda o: o.code)
    symbol = ""


def base_currency() -> Currency:
    return CurrencyFactory(code=settings.BASE_CURRENCY, name="人民币", symbol="¥")


class ExchangeRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExchangeRate

    currency = factory.SubFactory(CurrencyFactory)
    base_currency = factory.LazyFunction(base_currency)
    rate_date = factory.LazyFunction(lambda: dt.date(2025, 1, 1))
    rate = Decimal("7.10000000")
    source = "test"


class FinancialRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FinancialRecord

    record_type = FinancialRecord.RecordType.SALE
    direction = FinancialRecord.Direction.INCOME
    currency = factory.LazyFunction(base_currency)
    amount = Decimal("100.00")
    exchange_rate = Decimal("1")
    amount_base = Decimal("100.00")
    occurred_at = factory.LazyFunction(lambda: dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    description = "测试记录"


class ExpenseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Expense

    category = Expense.Category.ADVERTISING
    expense_date = dt.date(2025, 1, 1)
    currency = factory.LazyFunction(base_currency)
    amount = Decimal("500.00")
    exchange_rate = Decimal("1")
    amount_base = Decimal("500.00")
    description = "广告费"


class RevenueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Revenue

    source = Revenue.Source.OTHER
    revenue_date = dt.date(2025, 1, 1)
    currency = factory.LazyFunction(base_currency)
    amount = Decimal("80.00")
    exchange_rate = Decimal("1")
    amount_base = Decimal("80.00")
