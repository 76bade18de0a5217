"""Starting an import job: the file is stored with the job, and the job queued once committed."""
from pathlib import PurePath

from django.db import transaction

from apps.core.exceptions import DomainError
from apps.platforms.models import ImportJob, Shop
from apps.platforms.tasks import run_import_job

Kind = ImportJob.Kind
ORDER_KINDS = (Kind.SHOPIFY_ORDERS, Kind.AMAZON_ORDERS)
# The platform whose export each order kind is (Platform.code).
ORDER_KIND_PLATFORM = {Kind.SHOPIFY_ORDERS: "shopify", Kind.AMAZON_ORDERS: "amazon"}
# What a user must be allowed to do with the records a kind of file writes.
KIND_PERMISSIONS = {
    Kind.SHOPIFY_ORDERS: ("sales.add_order", "sales.change_order"),
    Kind.AMAZON_ORDERS: ("sales.add_order", "sales.change_order"),
    Kind.PRODUCTS: ("inventory.add_product", "inventory.change_product"),
    Kind.LISTINGS: ("platforms.add_listing", "platforms.change_listing"),
    Kind.STOCK: ("inventory.add_stockadjustment",),
}
# Amazon reports download as .txt; spreadsheets are read by content, so the name only screens mistakes.
ACCEPTED_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm")


@transaction.atomic
def import_job_create(*, file, kind: str, shop: Shop | None, dry_run: bool, user=None) -> ImportJob:
    """Stores the uploaded file as a queued job and runs it once the transaction commits."""
    name = PurePath(getattr(file, "name", "") or "upload").name
    if PurePath(name).suffix.lower() not in ACCEPTED_SUFFIXES:
        raise DomainError("只支持 CSV、TSV/TXT（亚马逊报告）或 XLSX 文件。", field="file")
    if kind in ORDER_KINDS:
        if shop is None:
            raise DomainError("导入订单文件必须选择店铺。", field="shop")
        expected = ORDER_KIND_PLATFORM[kind]
        if shop.platform.code != expected:
            raise DomainError(
                f"店铺“{shop.name}”属于 {shop.platform.name}，不能导入 {Kind(kind).label}。", field="shop"
            )
    job = ImportJob.objects.create(
        kind=kind, file=file, original_filename=name[:255], shop=shop, dry_run=dry_run, created_by=user,
    )
    transaction.on_commit(lambda: run_import_job.delay(job.pk))
    return job
