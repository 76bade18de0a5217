"""Reading seller files (CSV, TSV, XLSX) one row at a time, columns mapped by header name.

- The column set changes between exports and versions, so a column is found by its header name
  (case, spaces, `-` and `_` do not matter), never by its position; extra columns are ignored.
- UTF-8 with or without BOM, CRLF or LF; files saved by a Chinese Excel (GB18030) and by a
  European one (Windows-1252, `;` as separator) are read as well.
- Spreadsheet text markers are removed: `'02134` is the zip `02134`.
- Rows are streamed (csv module over the file, openpyxl in read-only mode): memory does not grow
  with the file.
- Row numbers are the file's line numbers with the header as row 1 (the sheet's row number for
  XLSX); a quoted cell spanning several lines keeps the number of the line the row starts on.
"""
import csv
import datetime as dt
import io
import re
from operator import itemgetter
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

# Enough for any header line and a fair sample for encoding and separator detection.
_SNIFF_BYTES = 64 * 1024
_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls
_HEADER_NOISE = re.compile(r"[\s_\-]+")
# A leading apostrophe is a spreadsheet's "this is text" marker when it guards a number or a
# character a spreadsheet would otherwise interpret (our own exports write `'=…` for formulas).
_TEXT_MARKER = re.compile(r"^'(?=[0-9=+\-@\t\r\n\x00])")

csv.field_size_limit(16 * 1024 * 1024)


@dataclass(frozen=True)
class Column:
    """A column a kind of file may have: `key` is the name the importer uses, `headers` the
    header names it goes by in real files (the first is the canonical one, used in messages)."""

    key: str
    headers: tuple[str, ...]
    required: bool = False

    @property
    def label(self) -> str:
        return self.headers[0]


def column(key: str, *headers: str, required: bool = False) -> Column:
    return Column(key=key, headers=headers or (key,), required=required)


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "field": self.field, "message": self.message}


class FileUnreadable(Exception):
    """The file as a whole cannot be read (format, encoding, no header)."""

    def __init__(self, message: str, *, row: int = 1, field: str = ""):
        super().__init__(message)
        self.error = RowError(row=row, field=field, message=message)


def normalise_header(text) -> str:
    """`Lineitem quantity`, `lineitem_quantity` and `LINEITEM-QUANTITY` are the same column."""
    if text is None:
        return ""
    return _HEADER_NOISE.sub(" ", str(text).replace("\ufeff", "").strip().strip('"').lower()).strip()


def clean_cell(value: str) -> str:
    value = value.strip()
    if value and value[0] == "'" and _TEXT_MARKER.match(value):
        return value[1:]
    return value


class Table:
    """The rows of one file as `(row_number, {key: text})`; columns the file lacks are absent.
    Use as a context manager; iterate once."""

    def __init__(self, *, header: Sequence, header_row: int, rows: Iterator[tuple[int, Sequence]],
                 columns: Sequence[Column], estimated_rows: int, closer=None):
        self.header_row = header_row
        self.estimated_rows = estimated_rows
        self._rows = rows
        self._closer = closer
        by_header: dict[str, int] = {}
        for position, name in enumerate(header):
            by_header.setdefault(normalise_header(name), position)
        self.positions: dict[str, int] = {}
        self.missing: list[Column] = []
        for col in columns:
            position = next(
                (by_header[h] for h in map(normalise_header, col.headers) if h in by_header), None
            )
            if position is None:
                self.missing.append(col)
            else:
                self.positions[col.key] = position
        self.rows_read = 0

    def has(self, key: str) -> bool:
        return key in self.positions

    def header_errors(self) -> list[RowError]:
        return [
            RowError(row=self.header_row, field=col.label, message=f"缺少必需的列“{col.label}”。")
            for col in self.missing
            if col.required
        ]

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        # The hot loop of every import: C-level itemgetter/map/join/zip, no per-cell Python call.
        keys = tuple(self.positions)
        positions = tuple(self.positions.values())
        width = max(positions, default=-1) + 1
        pick = itemgetter(*positions) if len(positions) > 1 else (lambda values: (values[positions[0]],))
        for row_number, values in self._rows:
            if len(values) < width:
                if not "".join(values).strip():
                    continue  # a blank line (Excel leaves them at the end)
                values = [*values, *([""] * (width - len(values)))]
            cells = list(map(str.strip, pick(values))) if keys else []
            joined = "\x00" + "\x00".join(cells)
            if len(joined) == len(cells) and not "".join(values).strip():
                continue
            if "\x00'" in joined:
                cells = [clean_cell(cell) for cell in cells]
            self.rows_read += 1
            yield row_number, dict(zip(keys, cells))

    def close(self) -> None:
        if self._closer is not None:
            self._closer()
            self._closer = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_table(fileobj, *, filename: str, columns: Sequence[Column]) -> Table:
    """Opens a binary file object (CSV, TSV or XLSX by content, not by name) as a Table."""
    stream = _seekable(fileobj)
    head = stream.read(_SNIFF_BYTES)
    stream.seek(0)
    if head.startswith(_XLSX_MAGIC):
        return _open_xlsx(stream, columns=columns)
    if head.startswith(_OLE_MAGIC) or filename.lower().endswith(".xls"):
        raise FileUnreadable("不支持旧版 Excel（.xls）文件，请另存为 .xlsx 或 CSV 后再导入。")
    if not head.strip():
        raise FileUnreadable("文件是空的。")
    return _open_delimited(stream, head=head, columns=columns)


def _seekable(fileobj):
    """The stream itself when it is a real, seekable binary file; else a spooled copy (remote
    storages, upload wrappers), which stays in memory up to a few MB and spills to disk beyond."""
    raw = fileobj
    while getattr(raw, "file", None) is not None:  # Django's File/FieldFile wrap the real file
        raw = raw.file
    try:
        if raw.seekable() and raw.readable() and hasattr(raw, "readinto"):
            raw.seek(0)
            return raw
    except (AttributeError, ValueError, OSError):
        pass
    copy = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    fileobj.seek(0)
    shutil.copyfileobj(fileobj, copy, length=1024 * 1024)
    copy.seek(0)
    return copy


def _encoding(head: bytes) -> str:
    """UTF-8 (with or without BOM); else GB18030 (a Chinese Excel's CSV) when the high bytes come
    in pairs as Chinese characters do; else Windows-1252 (a European one's, `Müller`)."""
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    sample = head if len(head) < _SNIFF_BYTES else head[:-4]  # may end inside a character
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    return "gb18030" if _high_bytes_in_pairs(sample) else "cp1252"


def _high_bytes_in_pairs(sample: bytes) -> bool:
    pairs = lone = 0
    position, size = 0, len(sample)
    while position < size:
        if sample[position] < 0x80:
            position += 1
        elif position + 1 < size and sample[position + 1] >= 0x80:
            pairs += 1
            position += 2
        else:
            lone += 1
            position += 1
    return pairs > 0 and lone * 10 <= pairs


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in ("\t", ",", ";")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _estimate_rows(stream, head: bytes) -> int:
    """Data lines in the file (one pass over bytes; cheap next to parsing)."""
    if len(head) < _SNIFF_BYTES:
        lines = head.count(b"\n") + (0 if head.endswith(b"\n") else 1)
    else:
        lines = 0
        stream.seek(0)
        tail = b""
        for chunk in iter(lambda: stream.read(1024 * 1024), b""):
            lines += chunk.count(b"\n")
            tail = chunk
        lines += 0 if tail.endswith(b"\n") else 1
        stream.seek(0)
    return max(lines - 1, 0)


def _open_delimited(stream, *, head: bytes, columns: Sequence[Column]) -> Table:
    encoding = _encoding(head)
    estimated = _estimate_rows(stream, head)
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    first_line = head.decode(encoding, errors="ignore").lstrip("\ufeff").splitlines()[0] if head else ""
    reader = csv.reader(text, delimiter=_delimiter(first_line))
    try:
        header = next(reader)
    except StopIteration:
        raise FileUnreadable("文件是空的。") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise FileUnreadable(f"无法读取表头：{exc}") from None

    def rows():
        line = reader.line_num
        try:
            for values in reader:
                start = line + 1
                line = reader.line_num
                if values:
                    yield start, values
        except UnicodeDecodeError:
            raise FileUnreadable(f"第 {line + 1} 行附近的字符无法按 {encoding} 解码，请将文件另存为 UTF-8 后再导入。",
                                 row=line + 1) from None
        except csv.Error as exc:
            raise FileUnreadable(f"第 {line + 1} 行格式错误：{exc}", row=line + 1) from None

    def close():
        text.detach()

    return Table(header=header, header_row=reader.line_num, rows=rows(), columns=columns,
                 estimated_rows=estimated, closer=close)


def _xlsx_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (int, Decimal, dt.date, dt.time)):
        return str(value)
    return str(value)


def _open_xlsx(stream, *, columns: Sequence[Column]) -> Table:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except (InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise FileUnreadable(f"无法读取 Excel 文件：{exc}") from None
    sheet = workbook.worksheets[0]
    rows_iter = sheet.iter_rows(values_only=True)
    header = None
    header_row = 0
    for header_row, values in enumerate(rows_iter, start=1):
        if any(v not in (None, "") for v in values):
            header = [_xlsx_text(v) for v in values]
            break
    if header is None:
        workbook.close()
        raise FileUnreadable("文件是空的。")
    estimated = max((sheet.max_row or header_row) - header_row, 0)

    def rows():
        for number, values in enumerate(rows_iter, start=header_row + 1):
            yield number, [_xlsx_text(v) for v in values]

    return Table(header=header, header_row=header_row, rows=rows(), columns=columns, estimated_rows=estimated,
                 closer=workbook.close)
