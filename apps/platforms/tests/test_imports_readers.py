"""Reading seller files: columns by header name, BOM, CRLF, text-marked zips, row numbers, XLSX."""
import io

import pytest
from openpyxl import Workbook

from apps.platforms.imports.readers import FileUnreadable, column, normalise_header, open_table
from apps.platforms.imports.testing import DATA_DIR

COLUMNS = (
    column("name", "Name", required=True),
    column("zip", "Shipping Zip"),
    column("quantity", "Lineitem quantity", required=True),
    column("notes", "Notes"),
    column("nowhere", "Payment References"),
)


def read(content: bytes, columns=COLUMNS, filename="export.csv"):
    with open_table(io.BytesIO(content), filename=filename, columns=columns) as table:
        return table, list(table)


def test_header_names_match_whatever_their_case_spacing_or_separator():
    assert normalise_header(" Lineitem_Quantity ") == normalise_header("lineitem-quantity") == "lineitem quantity"
    assert normalise_header("\ufeffamazon-order-id") == "amazon order id"


def test_the_shopify_export_with_bom_and_crlf_reads_by_header_name():
    table, rows = read((DATA_DIR / "shopify_orders_export.csv").read_bytes())
    assert table.header_errors() == []
    first_row, cells = rows[0]
    assert first_row == 2
    assert cells["name"] == "#1001" and cells["quantity"] == "2"
    assert not any(value.endswith("\r") for _, row in rows for value in row.values())


def test_an_apostrophe_marked_zip_keeps_its_leading_zero_without_the_apostrophe():
    _, rows = read((DATA_DIR / "shopify_orders_export.csv").read_bytes())
    assert rows[0][1]["zip"] == "02134"


def test_a_cell_spanning_two_lines_keeps_the_number_of_the_line_it_starts_on():
    _, rows = read((DATA_DIR / "shopify_orders_export.csv").read_bytes())
    numbers = {row: cells["name"] for row, cells in rows}
    # #1003's note spans lines 5 and 6; its next line item is on line 7.
    assert [row for row, name in numbers.items() if name == "#1003"] == [5, 7, 8]
    assert rows[3][1]["notes"] == "Leave at the back door.\nThanks!"


def test_a_column_the_file_lacks_is_absent_and_extra_columns_are_ignored():
    table, rows = read(b"Name,Lineitem quantity,Something Else\n#1,2,x\n")
    assert not table.has("nowhere") and "nowhere" not in rows[0][1]
    assert set(rows[0][1]) == {"name", "quantity"}


def test_a_missing_required_column_is_an_error_on_the_header_row():
    table, _ = read(b"Name,Notes\n#1,hello\n")
    errors = table.header_errors()
    assert [(e.row, e.field) for e in errors] == [(1, "Lineitem quantity")]


def test_tab_separated_amazon_reports_are_recognised():
    columns = (column("order_id", "amazon-order-id", required=True), column("sku", "sku"))
    table, rows = read((DATA_DIR / "amazon_all_orders.txt").read_bytes(), columns=columns, filename="report.txt")
    assert table.header_errors() == []
    assert rows[0] == (2, {"order_id": "302-1234567-1234567", "sku": "BOTTLE-750"})


def test_a_csv_saved_by_a_chinese_excel_in_gb18030_is_read():
    content = "Name,Lineitem quantity,Notes\n#1,1,请放在门口\n".encode("gb18030")
    _, rows = read(content)
    assert rows[0][1]["notes"] == "请放在门口"


def test_a_csv_saved_by_a_european_excel_in_windows_1252_with_semicolons_is_read():
    content = "Name;Lineitem quantity;Notes\r\n#1;1;Lieferung an Frau Müller, Straße 5\r\n".encode("cp1252")
    _, rows = read(content)
    assert rows[0][1] == {"name": "#1", "quantity": "1", "notes": "Lieferung an Frau Müller, Straße 5"}


def test_blank_lines_are_skipped_but_still_count_as_lines():
    _, rows = read(b"Name,Lineitem quantity\r\n#1,1\r\n\r\n,\r\n#2,3\r\n")
    assert [row for row, _ in rows] == [2, 5]


def test_an_xlsx_sheet_reads_with_sheet_row_numbers_and_numbers_as_text():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Name", "Lineitem quantity", "Shipping Zip"])
    sheet.append(["#1", 2, "'02134"])
    sheet.append([None, None, None])
    sheet.append(["#2", 3.0, 10115])
    buffer = io.BytesIO()
    workbook.save(buffer)
    _, rows = read(buffer.getvalue(), filename="orders.xlsx")
    assert rows == [(2, {"name": "#1", "quantity": "2", "zip": "02134"}),
                    (4, {"name": "#2", "quantity": "3", "zip": "10115"})]


def test_a_legacy_xls_file_is_refused_with_a_reason():
    with pytest.raises(FileUnreadable) as caught:
        read(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, filename="orders.xls")
    assert ".xlsx" in caught.value.error.message
