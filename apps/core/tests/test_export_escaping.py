import csv
import io
from decimal import Decimal

import openpyxl
import pytest
import tablib
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse
from import_export.formats.base_formats import CSV, XLSX

from apps.core.resources import FORMULA_TRIGGERS, neutralise_formula, restore_formula
from apps.finance.tests.factories import base_currency
from apps.inventory.models import Product
from apps.inventory.resources import ProductResource
from apps.inventory.tests.factories import ProductFactory
from apps.platforms.resources import ListingResource
from apps.platforms.tests.factories import ListingFactory
from apps.users.tests.factories import AdminUserFactory

DANGEROUS = "=cmd|' /C calc'!A0"


@pytest.mark.parametrize("trigger", sorted(FORMULA_TRIGGERS))
def test_text_starting_with_a_formula_trigger_gets_a_leading_quote(trigger):
    assert neutralise_formula(trigger + "SUM(A1)") == "'" + trigger + "SUM(A1)"


@pytest.mark.parametrize("text", ["plain", "it's", "'quoted", "", "a=b", "1-2"])
def test_harmless_text_is_left_alone(text):
    assert neutralise_formula(text) == text
    assert restore_formula(text) == text


@pytest.mark.parametrize("text", [DANGEROUS, "+1", "-x", "@A1", "\tx", "\rx", "\nx", "\x00x", "'=x", "''+y"])
def test_restoring_a_neutralised_cell_gives_back_exactly_the_original(text):
    assert restore_formula(neutralise_formula(text)) == text


def test_restoring_strips_only_one_quote_and_only_before_a_trigger():
    assert restore_formula("'=1+1") == "=1+1"
    assert restore_formula("'abc") == "'abc"
    assert restore_formula(5) == 5


@pytest.fixture
def dangerous_product(db):
    base_currency()
    return ProductFactory(
        sku="@SKU-1", name=DANGEROUS, name_en="+SUM(1,2)", brand="\tACME", barcode="-1234",
        cost_price=Decimal("12.50"), category=None,
    )


def exported_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_export_quotes_formula_text_and_keeps_numbers_plain(dangerous_product):
    ListingFactory(platform_sku="L-1", product=dangerous_product, platform_stock=-3, title="=HYPERLINK(\"x\")")

    [product] = exported_rows(CSV().export_data(ProductResource().export()))
    [listing] = exported_rows(CSV().export_data(ListingResource().export()))

    assert (product["sku"], product["name"], product["name_en"], product["brand"], product["barcode"]) == (
        "'@SKU-1", "'" + DANGEROUS, "'+SUM(1,2)", "'\tACME", "'-1234"
    )
    assert product["cost_price"] == "12.50"
    assert listing["platform_stock"] == "-3"  # a negative number is a number, not a formula
    assert listing["title"] == "'=HYPERLINK(\"x\")" and listing["sku"] == "'@SKU-1"


def _xlsx_from_admin(model, queryset):
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/")
    request.user = AdminUserFactory()
    return openpyxl.load_workbook(io.BytesIO(model_admin.get_export_data(XLSX(), request, queryset)))


def test_xlsx_export_writes_formula_text_as_quoted_strings_and_numbers_as_numbers(dangerous_product):
    sheet = _xlsx_from_admin(Product, Product.objects.all()).active
    header = [cell.value for cell in sheet[1]]
    row = {name: cell for name, cell in zip(header, sheet[2])}

    assert row["name"].data_type == "s" and row["name"].value == "'" + DANGEROUS
    assert row["sku"].value == "'@SKU-1" and row["barcode"].value == "'-1234"
    assert row["cost_price"].data_type == "n" and row["cost_price"].value == 12.5
    assert row["reorder_point"].data_type == "n" and row["reorder_point"].value == 0
    assert all(cell.data_type != "f" for line in sheet.iter_rows() for cell in line)


def test_the_admin_xlsx_download_is_formula_safe(client, dangerous_product):
    client.force_login(AdminUserFactory())
    data = {"format": "1", "resource": "0"}
    data.update({f"productresource_{name}": "on" for name in ProductResource.fields})

    response = client.post(reverse("admin:inventory_product_export"), data)

    assert response.status_code == 200, response.content[:500]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = [cell.value for cell in sheet[2]]
    assert "'" + DANGEROUS in values and 12.5 in values
    assert all(cell.data_type != "f" for line in sheet.iter_rows() for cell in line)


@pytest.mark.parametrize("file_format", [CSV(), XLSX()], ids=["csv", "xlsx"])
def test_formula_text_round_trips_through_export_and_import(dangerous_product, file_format):
    native = file_format.is_binary()
    exported = file_format.export_data(ProductResource().export(force_native_type=native))
    Product.objects.all().delete()

    dataset = file_format.create_dataset(exported)
    result = ProductResource().import_data(dataset)

    assert not result.has_errors() and not result.has_validation_errors()
    product = Product.objects.get()
    assert (product.sku, product.name, product.name_en, product.brand, product.barcode) == (
        "@SKU-1", DANGEROUS, "+SUM(1,2)", "\tACME", "-1234"
    )
    assert product.cost_price == Decimal("12.50")


def test_control_characters_that_xlsx_cannot_hold_do_not_break_the_export(db):
    product = Product(sku="\x00NUL", name="a\x07b", cost_currency_id="CNY")

    dataset = ProductResource().export([product], force_native_type=True)
    sheet = openpyxl.load_workbook(io.BytesIO(XLSX().export_data(dataset))).active

    assert sheet["A2"].value == "'\N{REPLACEMENT CHARACTER}NUL"
    assert sheet["B2"].value == "a\N{REPLACEMENT CHARACTER}b"
    assert tablib.Dataset().load(CSV().export_data(ProductResource().export([product])), format="csv")[0][0] == (
        "'\x00NUL"
    )
