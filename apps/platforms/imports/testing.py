"""Helpers for tests of imports (kept beside the code as apps/core/testing.py is)."""
import datetime as dt
from decimal import Decimal
from pathlib import Path

from django.core.files.base import ContentFile

from apps.platforms.models import ImportJob

from .runner import import_job_run

DATA_DIR = Path(__file__).resolve().parent.parent / "tests" / "data"


def import_file(kind: str, content: bytes | str | Path, *, filename: str | None = None, shop=None,
                dry_run: bool = False, user=None) -> ImportJob:
    """Creates a job for `content` (bytes, or a path under tests/data) and runs it in-process."""
    if isinstance(content, (str, Path)):
        path = DATA_DIR / content
        filename = filename or path.name
        content = path.read_bytes()
    job = ImportJob.objects.create(
        kind=kind, file=ContentFile(content, name=filename or "upload.csv"), original_filename=filename or "upload.csv",
        shop=shop, dry_run=dry_run, created_by=user,
    )
    return import_job_run(job_id=job.pk)


def daily_rates(currency_rates: dict[str, str], *, start: dt.date, days: int) -> None:
    """Exchange rates to the base currency for `days` days from `start`."""
    from apps.finance.tests.factories import CurrencyFactory, ExchangeRateFactory, base_currency

    base_currency()
    for code, rate in currency_rates.items():
        currency = CurrencyFactory(code=code)
        for offset in range(days):
            ExchangeRateFactory(currency=currency, rate_date=start + dt.timedelta(days=offset), rate=Decimal(rate))
