"""Admin building blocks every app's admin shares."""
from django.contrib import admin
from import_export.admin import ImportExportModelAdmin
from import_export.formats import base_formats


class ReadOnlyAdminMixin:
    """View only: ledgers, rollups and logs are written by services, never typed in by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    show_change_link = False


class ErpImportExportAdmin(ImportExportModelAdmin):
    """CSV and Excel (XLSX) import/export through the app's resource (natural keys, Chinese errors,
    formula-safe cells, all-or-nothing imports)."""

    formats = (base_formats.CSV, base_formats.XLSX)
    # Large tables: no second COUNT(*) over the whole table on every changelist.
    show_full_result_count = False
