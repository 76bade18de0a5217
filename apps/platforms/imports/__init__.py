"""Bulk import of the files sellers already have (Shopify and Amazon order exports) and of our own
templates (products, listings, stock levels): streamed, validated whole, written all or nothing.
The Admin import (django-import-export, `apps/*/resources.py`) stays for back-office tables."""
from .runner import IMPORTERS, import_job_run  # noqa: F401
