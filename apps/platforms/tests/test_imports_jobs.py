"""The import job's life: claimed once, run once, failures recorded, lost jobs queued again."""
import datetime as dt

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from apps.finance.tests.factories import base_currency
from apps.inventory.models import Product
from apps.platforms import tasks
from apps.platforms.imports import runner
from apps.platforms.imports.testing import import_file
from apps.platforms.models import ImportJob

pytestmark = pytest.mark.django_db
Status = ImportJob.Status
PRODUCTS = b"sku,name,cost_price\nMUG-1,Mug,1.00\nMUG-2,Mug 2,2.00\n"


@pytest.fixture(autouse=True)
def currencies():
    base_currency()


def queued_job(content=PRODUCTS, **fields) -> ImportJob:
    return ImportJob.objects.create(kind=ImportJob.Kind.PRODUCTS, file=ContentFile(content, name="p.csv"),
                                    original_filename="p.csv", **fields)


def test_a_finished_job_delivered_again_is_left_alone():
    job = import_file(ImportJob.Kind.PRODUCTS, PRODUCTS, filename="p.csv")
    Product.objects.all().delete()
    again = runner.import_job_run(job_id=job.pk)
    assert (again.status, again.created_count) == (Status.SUCCEEDED, 2)
    assert not Product.objects.exists()


def test_a_job_another_worker_is_running_is_not_run_twice():
    job = queued_job(status=Status.RUNNING)
    assert runner.import_job_run(job_id=job.pk).status == Status.RUNNING
    assert not Product.objects.exists()


def test_a_running_job_whose_worker_went_silent_is_claimed_again():
    job = queued_job(status=Status.RUNNING)
    ImportJob.objects.filter(pk=job.pk).update(updated_at=timezone.now() - dt.timedelta(hours=1))
    assert runner.import_job_run(job_id=job.pk).status == Status.SUCCEEDED
    assert Product.objects.count() == 2


def test_the_reaper_queues_lost_jobs_again_and_they_run():
    lost = queued_job()
    fresh = queued_job(status=Status.RUNNING)
    ImportJob.objects.filter(pk=lost.pk).update(updated_at=timezone.now() - dt.timedelta(hours=2))
    assert tasks.requeue_stale_import_jobs() == [lost.pk]
    lost.refresh_from_db()
    fresh.refresh_from_db()
    assert (lost.status, fresh.status) == (Status.SUCCEEDED, Status.RUNNING)


def test_an_unexpected_error_fails_the_job_writes_nothing_and_says_so(monkeypatch):
    from apps.platforms.imports.products import ProductsImporter

    def explode(self, records, *, write):
        Product.objects.create(sku="HALF-WRITTEN", name="x", cost_currency_id="CNY")
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(ProductsImporter, "write", explode)
    job = runner.import_job_run(job_id=queued_job().pk)
    assert job.status == Status.FAILED and "RuntimeError" in job.errors[0]["message"]
    assert not Product.objects.exists()


def test_progress_ends_with_every_row_processed():
    job = import_file(ImportJob.Kind.PRODUCTS, PRODUCTS, filename="p.csv")
    assert (job.total_rows, job.processed_rows, job.started_at is not None, job.finished_at is not None) == (
        2, 2, True, True)


def test_the_task_runs_the_job():
    job = queued_job()
    tasks.run_import_job.delay(job.pk)
    job.refresh_from_db()
    assert job.status == Status.SUCCEEDED and job.created_count == 2
