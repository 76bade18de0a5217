"""Import/export plumbing every app's resources share (django-import-export).

- Files name related rows by natural keys (SKU, shop code, warehouse code, currency code), never ids.
- Every bad cell becomes a row error with a Chinese reason; a file with any bad row writes nothing.
- Text cells that a spreadsheet would run as a formula are neutralised on export with a leading `'`
  and restored on import, so export → import round trips hold; numbers stay numbers.
"""
import datetime as dt
import re
from collections.abc import Iterable
from decimal import ROUND_DOWN, Decimal, InvalidOperation

import tablib
from django.core.exceptions import MultipleObjectsReturned, NON_FIELD_ERRORS, ObjectDoesNotExist, ValidationError
from django.db.models import QuerySet, TextChoices
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.encoding import force_str
from import_export import exceptions as ie_exceptions
from import_export import fields, resources, widgets
from import_export.instance_loaders import ModelInstanceLoader
from import_export.results import Error, Result

# A spreadsheet treats a cell starting with one of these as a formula (or strips them silently).
FORMULA_TRIGGERS = frozenset("=+-@\t\r\n\x00")
# Characters an XLSX cell cannot hold at all (openpyxl refuses them).
XLSX_ILLEGAL_CHARACTERS = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
_QUOTED_TRIGGER = re.compile(r"^'+[=+\-@\t\r\n\x00]")


def neutralise_formula(text: str) -> str:
    """`=cmd|…` → `'=cmd|…`. Text already made of quotes before a trigger gets one more quote, so
    `restore_formula` returns exactly the original."""
    stripped = text.lstrip("'")
    if stripped and stripped[0] in FORMULA_TRIGGERS:
        return "'" + text
    return text


def restore_formula(value):
    """Undoes `neutralise_formula`: drops one leading `'` when quotes are followed by a trigger."""
    if isinstance(value, str) and _QUOTED_TRIGGER.match(value):
        return value[1:]
    return value


# Widgets ---------------------------------------------------------------------------------------

def _is_empty(value) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


class TextWidget(widgets.CharWidget):
    """Text; `strip` for identifiers, `required` for columns that must be filled, `upper` for codes."""

    def __init__(self, *, required: bool = False, strip: bool = False, upper: bool = False, max_length=None):
        super().__init__(coerce_to_string=True, allow_blank=True)
        self.required = required
        self.strip = strip
        self.upper = upper
        self.max_length = max_length

    def clean(self, value, row=None, **kwargs):
        if _is_empty(value):
            if self.required:
                raise ValueError("不能为空。")
            return ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # an id typed as a number in Excel
        text = force_str(value)
        if self.strip:
            text = text.strip()
        if self.upper:
            text = text.upper()
        if self.max_length and len(text) > self.max_length:
            raise ValueError(f"长度不能超过 {self.max_length} 个字符（当前 {len(text)} 个）。")
        return text


class ChoiceWidget(TextWidget):
    """A choice column: accepts the code (`paid`) or the Chinese label (`已付款`); exports the code."""

    def __init__(self, choices: type[TextChoices], *, required: bool = False):
        super().__init__(required=required, strip=True)
        self.choices = choices

    def clean(self, value, row=None, **kwargs):
        text = super().clean(value, row, **kwargs)
        if text == "":
            return ""
        for member in self.choices:
            if text in (member.value, member.label) or text.lower() == member.value:
                return member.value
        options = "、".join(f"{m.value}（{m.label}）" for m in self.choices)
        raise ValueError(f"「{text}」不是有效的选项，可选：{options}。")


class IntWidget(widgets.IntegerWidget):
    def __init__(self, *, required: bool = False, min_value: int | None = None):
        super().__init__(coerce_to_string=True)
        self.required = required
        self.min_value = min_value

    def clean(self, value, row=None, **kwargs):
        if _is_empty(value):
            if self.required:
                raise ValueError("不能为空。")
            return None
        try:
            number = Decimal(force_str(value).strip().replace(",", ""))
        except InvalidOperation:
            raise ValueError(f"「{value}」不是有效的整数。") from None
        if not number.is_finite() or number != number.to_integral_value():
            raise ValueError(f"「{value}」不是有效的整数。")
        number = int(number)
        if self.min_value is not None and number < self.min_value:
            if self.min_value == 0:
                raise ValueError(f"不能为负数（当前 {number}）。")
            raise ValueError(f"必须大于等于 {self.min_value}（当前 {number}）。")
        return number


class MoneyWidget(widgets.DecimalWidget):
    """A Decimal amount; `places` limits decimals (2 for money, 8 for rates); negatives refused by default."""

    def __init__(self, *, required: bool = False, places: int = 2, allow_negative: bool = False):
        super().__init__(coerce_to_string=True)
        self.required = required
        self.places = places
        self.allow_negative = allow_negative

    def clean(self, value, row=None, **kwargs):
        if _is_empty(value):
            if self.required:
                raise ValueError("不能为空。")
            return None
        if isinstance(value, float):
            value = repr(value)  # 19.99 from a spreadsheet, not 19.989999…
        try:
            number = Decimal(force_str(value).strip().replace(",", ""))
        except InvalidOperation:
            raise ValueError(f"「{value}」不是有效的数字。") from None
        if not number.is_finite():
            raise ValueError(f"「{value}」不是有效的数字。")
        if not self.allow_negative and number < 0:
            raise ValueError(f"不能为负数（当前 {number}）。")
        try:
            fits = number == number.quantize(Decimal(1).scaleb(-self.places), rounding=ROUND_DOWN)
        except InvalidOperation:
            raise ValueError(f"「{value}」超出允许的范围。") from None
        if not fits:
            raise ValueError(f"最多 {self.places} 位小数（当前 {number}）。")
        return number


class DateWidget(widgets.DateWidget):
    FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d")

    def __init__(self, *, required: bool = False):
        super().__init__(format="%Y-%m-%d")
        self.required = required

    def clean(self, value, row=None, **kwargs):
        if _is_empty(value):
            if self.required:
                raise ValueError("不能为空。")
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        text = force_str(value).strip()
        for fmt in self.FORMATS:
            try:
                return dt.datetime.strptime(text, fmt).date()
            except ValueError:
                continue
        raise ValueError(f"「{text}」不是有效的日期，应为 YYYY-MM-DD。")


class DateTimeWidget(widgets.DateTimeWidget):
    """Times are written in the business time zone (TIME_ZONE) without an offset; an offset in the
    file is honoured. Seconds and microseconds are kept so round trips are exact."""

    FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d")

    def __init__(self, *, required: bool = False):
        super().__init__(format="%Y-%m-%d %H:%M:%S")
        self.required = required

    def clean(self, value, row=None, **kwargs):
        if _is_empty(value):
            if self.required:
                raise ValueError("不能为空。")
            return None
        if isinstance(value, dt.datetime):
            parsed = value
        elif isinstance(value, dt.date):
            parsed = dt.datetime.combine(value, dt.time())
        else:
            text = force_str(value).strip()
            parsed = None
            try:
                parsed = parse_datetime(text)
                if parsed is None and (day := parse_date(text)) is not None:
                    parsed = dt.datetime.combine(day, dt.time())
            except ValueError:
                parsed = None
            for fmt in self.FORMATS:
                if parsed is not None:
                    break
                try:
                    parsed = dt.datetime.strptime(text, fmt)
                except ValueError:
                    continue
            if parsed is None:
                raise ValueError(f"「{text}」不是有效的时间，应为 YYYY-MM-DD HH:MM:SS。")
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed)
        return parsed

    def render(self, value, obj=None, **kwargs):
        if not isinstance(value, dt.datetime):
            return ""
        local = timezone.localtime(value)
        if kwargs.get("force_native_type"):
            return local.replace(tzinfo=None)  # xlsx has no time zones
        text = local.strftime("%Y-%m-%d %H:%M:%S")
        return f"{text}.{local.microsecond:06d}" if local.microsecond else text


class BoolWidget(widgets.BooleanWidget):
    TRUE_TEXT = {"1", "true", "yes", "y", "是", "启用", "在售", "√"}
    FALSE_TEXT = {"0", "false", "no", "n", "否", "停用", "停售", "×"}

    def clean(self, value, row=None, **kwargs):
        if _is_empty(value):
            return None
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value)
        text = force_str(value).strip().lower()
        if text in self.TRUE_TEXT:
            return True
        if text in self.FALSE_TEXT:
            return False
        raise ValueError(f"「{value}」不是有效的是/否值，请填 1/0 或 是/否。")


class NaturalKeyWidget(widgets.ForeignKeyWidget):
    """A related row named by its natural key (`sku`, `code`, `name`): unknown or ambiguous keys are
    row errors in Chinese."""

    def __init__(self, model, field: str, *, label: str, required: bool = False, upper: bool = False):
        super().__init__(model, field)
        self.label = label
        self.required = required
        self.upper = upper

    def clean(self, value, row=None, **kwargs):
        if _is_empty(value):
            if self.required:
                raise ValueError("不能为空。")
            return None
        key = TextWidget(strip=True, upper=self.upper).clean(value)
        try:
            return self.get_queryset(key, row, **kwargs).get(**self.get_lookup_kwargs(key, row, **kwargs))
        except ObjectDoesNotExist:
            raise ValueError(f"未知{self.label}：{key}。") from None
        except MultipleObjectsReturned:
            raise ValueError(f"{self.label}「{key}」不唯一，无法确定是哪一个。") from None

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        for attr in self.field.split("__"):
            value = getattr(value, attr, None)
            if value is None:
                return ""
        return force_str(value)


# Fields ----------------------------------------------------------------------------------------

def column(attribute: str | None, widget=None, *, name: str | None = None, readonly: bool = False, **kwargs):
    """A resource column; the column name defaults to the last part of the attribute."""
    return fields.Field(
        attribute=attribute,
        column_name=name or (attribute.split("__")[-1] if attribute else None),
        widget=widget or TextWidget(),
        readonly=readonly,
        **kwargs,
    )


class NaturalKeyInstanceLoader(ModelInstanceLoader):
    """Finds the existing row by the import id columns; a key that does not resolve (unknown shop,
    blank SKU) means "not found" here and is reported by the field's own validation."""

    def get_instance(self, row):
        try:
            return super().get_instance(row)
        except (ValueError, ObjectDoesNotExist, MultipleObjectsReturned):
            return None


# Resources -------------------------------------------------------------------------------------

class ErpResource(resources.ModelResource):
    """Base for every resource: transactional all-or-nothing imports, Chinese errors keyed by column,
    unchanged rows skipped, formula-safe text cells."""

    #: Columns a file must have (besides `import_id_fields`); a missing one rejects the whole file.
    required_columns: tuple[str, ...] = ()

    class Meta:
        skip_unchanged = True
        report_skipped = True
        use_transactions = True
        clean_model_instances = True
        instance_loader_class = NaturalKeyInstanceLoader

    # import ----------------------------------------------------------------------------------

    def import_data(self, dataset, dry_run=False, raise_errors=False, use_transactions=None,
                    collect_failed_rows=False, rollback_on_validation_errors=False, **kwargs):
        # One bad row rejects the file: always a transaction, rolled back on any row error.
        dataset = self.prepare_dataset(dataset)
        missing = self.missing_columns(dataset.headers or [])
        if missing:
            message = f"文件缺少必需的列：{'、'.join(missing)}。"
            if raise_errors:
                raise ie_exceptions.ImportError(ValueError(message))
            result = self.get_result_class()()
            result.total_rows = len(dataset)
            result.append_base_error(Error(ValueError(message)))
            return result
        return super().import_data(
            dataset, dry_run=dry_run, raise_errors=raise_errors, use_transactions=True,
            collect_failed_rows=collect_failed_rows, rollback_on_validation_errors=True, **kwargs,
        )

    def prepare_dataset(self, dataset: tablib.Dataset) -> tablib.Dataset:
        """Trims header names, drops trailing blank rows and undoes export's formula quoting."""
        headers = [force_str(h).strip() if h is not None else "" for h in (dataset.headers or [])]
        rows = [list(r) for r in dataset]
        while rows and all(_is_empty(cell) for cell in rows[-1]):
            rows.pop()
        prepared = tablib.Dataset(headers=headers)
        for row in rows:
            prepared.append([restore_formula(cell) for cell in row])
        return prepared

    def missing_columns(self, headers: Iterable[str]) -> list[str]:
        present = set(headers)
        wanted = [self.fields[name].column_name for name in self.get_import_id_fields()]
        wanted += list(self.required_columns)
        return [name for name in dict.fromkeys(wanted) if name not in present]

    def import_instance(self, instance, row, **kwargs):
        # As the library's, but errors are keyed by the file's column name, not the attribute path.
        errors = {}
        for field in self.get_import_fields():
            if isinstance(field.widget, widgets.ManyToManyWidget):
                continue
            try:
                self.import_field(field, instance, row, **kwargs)
            except ValueError as exc:
                errors[field.column_name] = ValidationError(force_str(exc), code="invalid")
        if errors:
            raise ValidationError(errors)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        if import_validation_errors:
            # The cells are already wrong; model checks would only add vaguer echoes of them.
            raise ValidationError(import_validation_errors)
        super().validate_instance(instance, None, validate_unique)

    # export ----------------------------------------------------------------------------------

    def filter_export(self, queryset, **kwargs):
        if isinstance(queryset, QuerySet):
            return self.export_queryset(queryset)
        return queryset  # a list of instances is exported as given

    def export_queryset(self, queryset: QuerySet) -> QuerySet:
        """Joins what the columns read and orders rows by natural key, so exports are stable."""
        return queryset

    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        if not isinstance(value, str):
            return value
        if not isinstance(field.widget, widgets.NumberWidget):
            value = neutralise_formula(value)
        if kwargs.get("force_native_type"):
            value = XLSX_ILLEGAL_CHARACTERS.sub("\N{REPLACEMENT CHARACTER}", value)
        return value


class HeaderLineResource(ErpResource):
    """One file row per document line; the document's (header's) columns repeat on each of its
    rows. Rows are grouped by the header's natural key: the header is created or updated, and the
    line identified inside it. Header columns use attributes `<header_attr>__<field>`."""

    header_attr: str = ""
    #: Columns (by resource field name) that identify the header, e.g. ("shop", "platform_order_id").
    header_key_fields: tuple[str, ...] = ()

    # subclasses ------------------------------------------------------------------------------

    def header_model(self):
        return self._meta.model._meta.get_field(self.header_attr).related_model

    def header_lookup(self, key: dict) -> dict:
        """ORM filter that finds the header from the cleaned key values."""
        return {self.fields[name].attribute.split("__", 1)[1]: value for name, value in key.items()}

    def line_lookup(self, row) -> dict | None:
        """ORM filter (relative to the line) that finds the line inside its header, from raw cells."""
        raise NotImplementedError

    def complete_line(self, line, row, errors: dict) -> None:
        """Fills derived values (base amounts, product) after the columns are applied."""

    def check_before_save(self, line, errors: dict) -> None:
        """Business rules checked only for rows that will be written."""

    # machinery -------------------------------------------------------------------------------

    def before_import(self, dataset, **kwargs):
        self._header_rows: dict[tuple, tuple[int, dict]] = {}
        super().before_import(dataset, **kwargs)

    def _header_fields(self):
        prefix = self.header_attr + "__"
        return [f for f in self.get_import_fields() if f.attribute and f.attribute.startswith(prefix)]

    def _clean_header_key(self, row) -> dict:
        key, errors = {}, {}
        for name in self.header_key_fields:
            field = self.fields[name]
            try:
                value = field.clean(row)
            except ValueError as exc:
                errors[field.column_name] = ValidationError(force_str(exc))
                continue
            if value in (None, ""):
                errors[field.column_name] = ValidationError("不能为空。")
            key[name] = value
        if errors:
            raise ValidationError(errors)
        return key

    def get_instance(self, instance_loader, row):
        try:
            key = self._clean_header_key(row)
            lookup = self.line_lookup(row)
        except (ValidationError, ValueError):
            return None
        if lookup is None:
            return None
        header_filter = {f"{self.header_attr}__{k}": v for k, v in self.header_lookup(key).items()}
        return (
            self._meta.model.objects.select_related(self.header_attr)
            .filter(**header_filter, **lookup)
            .order_by("pk")
            .first()
        )

    def _snapshot(self, header) -> dict:
        names = [f.attribute.split("__", 1)[1] for f in self._header_fields() if not f.readonly]
        names += list(getattr(self, "header_derived_fields", ()))
        return {name: getattr(header, name, None) for name in names}

    def import_instance(self, instance, row, **kwargs):
        errors: dict = {}
        model = self.header_model()
        try:
            key = self._clean_header_key(row)
        except ValidationError as exc:
            key, errors = None, exc.update_error_dict(errors)
            setattr(instance, self.header_attr, model())  # scratch: the other cells are still checked
        if key is not None and (instance.pk is None or getattr(instance, f"{self.header_attr}_id") is None):
            header = model.objects.filter(**self.header_lookup(key)).first() or model()
            setattr(instance, self.header_attr, header)
        header = getattr(instance, self.header_attr)
        header._import_snapshot = self._snapshot(header) if header.pk else None
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            for column_name, messages in exc.error_dict.items():
                errors.setdefault(column_name, messages)  # a bad key is reported once
        self.complete_line(instance, row, errors)
        if not errors:
            self._check_same_header_values(instance, key, kwargs.get("row_number"), errors)
        if errors:
            raise ValidationError(errors)

    def _check_same_header_values(self, line, key: dict, row_number, errors: dict) -> None:
        """Every row of one document must repeat the same document values."""
        header = getattr(line, self.header_attr)
        values = self._snapshot(header)
        marker = tuple(getattr(v, "pk", v) for v in key.values())
        seen = self._header_rows.get(marker)
        if seen is None:
            self._header_rows[marker] = (row_number, values)
            return
        first_row, first_values = seen
        for field in self._header_fields():
            name = field.attribute.split("__", 1)[1]
            if name in first_values and first_values[name] != values.get(name):
                errors.setdefault(field.column_name, []).append(
                    f"与第 {first_row} 行同一单据的值不一致（{first_values[name]} ≠ {values.get(name)}）。"
                )

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        if errors:
            # The row is already rejected; model checks would only repeat the same problems.
            raise ValidationError(errors)
        header = getattr(instance, self.header_attr)
        header_columns = {f.attribute.split("__", 1)[1]: f.column_name for f in self._header_fields()}
        line_columns = {f.attribute: f.column_name for f in self.get_import_fields()
                        if f.attribute and "__" not in f.attribute}
        self.check_before_save(instance, errors)
        if errors:
            raise ValidationError(errors)
        for obj, columns, exclude in (
            (header, header_columns, []),
            (instance, line_columns, [self.header_attr]),
        ):
            try:
                obj.full_clean(exclude=exclude, validate_unique=validate_unique)
            except ValidationError as exc:
                for name, messages in exc.message_dict.items():
                    target = columns.get(name, NON_FIELD_ERRORS if name == NON_FIELD_ERRORS else name)
                    if target in errors:
                        continue
                    errors.setdefault(target, []).extend(messages)
        if errors:
            raise ValidationError(errors)

    def save_instance(self, instance, is_create, row, **kwargs):
        header = getattr(instance, self.header_attr)
        snapshot = getattr(header, "_import_snapshot", None)
        if header.pk is None or snapshot != self._snapshot(header):
            header.save()
        setattr(instance, self.header_attr, header)
        super().save_instance(instance, is_create, row, **kwargs)


# Reporting -------------------------------------------------------------------------------------

def import_errors(result: Result) -> list[dict]:
    """Every problem of an import as `{"row": n, "column": name, "message": text}`, rows counted
    from 1 after the header line (`row` is None for problems with the file itself)."""
    problems = [{"row": None, "column": "", "message": force_str(e.error)} for e in result.base_errors]
    for error_row in result.error_rows:
        for error in error_row.errors:
            problems.append({"row": error_row.number, "column": "", "message": force_str(error.error)})
    for invalid in result.invalid_rows:
        for column_name, messages in invalid.field_specific_errors.items():
            for message in messages:
                problems.append({"row": invalid.number, "column": column_name, "message": force_str(message)})
        for message in invalid.non_field_specific_errors:
            problems.append({"row": invalid.number, "column": "", "message": force_str(message)})
    return sorted(problems, key=lambda p: (p["row"] or 0, p["column"]))
