"""Money is a Decimal amount plus an ISO 4217 currency code; never a float."""
from decimal import ROUND_HALF_UP, Decimal

from django.db import models

MONEY_MAX_DIGITS = 18
MONEY_DECIMAL_PLACES = 2
RATE_MAX_DIGITS = 18
RATE_DECIMAL_PLACES = 8

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def quantize_money(amount: Decimal) -> Decimal:
    """Rounds to cents, half up, as accountants do."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def money_from_sql(value) -> Decimal:
    """A money value as raw SQL hands it back: PostgreSQL gives an exact Decimal; SQLite a float or
    an int for a decimal column or its sum (rounded to cents here); NULL is 0."""
    if value is None:
        return ZERO
    return value if isinstance(value, Decimal) else Decimal(str(round(value, 2)))


def money_field(verbose_name: str, **kwargs) -> models.DecimalField:
    kwargs.setdefault("default", ZERO)
    return models.DecimalField(
        verbose_name, max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, **kwargs
    )


def rate_field(verbose_name: str, **kwargs) -> models.DecimalField:
    return models.DecimalField(
        verbose_name, max_digits=RATE_MAX_DIGITS, decimal_places=RATE_DECIMAL_PLACES, **kwargs
    )


def currency_field(verbose_name: str = "币种", **kwargs) -> models.ForeignKey:
    """A currency is a foreign key to finance.Currency, whose primary key is the ISO code."""
    kwargs.setdefault("on_delete", models.PROTECT)
    kwargs.setdefault("related_name", "+")
    return models.ForeignKey("finance.Currency", verbose_name=verbose_name, **kwargs)
