"""Products template: master SKUs upserted by `sku`. Columns as the Admin export writes them
(field names or their Chinese labels); a category is named by its path (`家居/厨房`) and created
when missing; a supplier by its code."""
from django.conf import settings
from django.utils import timezone

from apps.finance.models import Currency
from apps.inventory.models import Category, Product, Supplier

from . import values
from .templates import Record, TemplateImporter, model_column

COLUMNS = (
    model_column(Product, "sku", "商品SKU", required=True),
    model_column(Product, "name", "商品名称", "product name", "title"),
    model_column(Product, "name_en", "english name"),
    model_column(Product, "category", "category path", "类目路径"),
    model_column(Product, "brand"),
    model_column(Product, "barcode", "ean", "upc"),
    model_column(Product, "cost_price", "cost", "采购价"),
    model_column(Product, "cost_currency", "currency", "币种"),
    model_column(Product, "weight_kg", "weight", "重量"),
    model_column(Product, "length_cm", "长度(cm)"),
    model_column(Product, "width_cm", "宽度(cm)"),
    model_column(Product, "height_cm", "高度(cm)"),
    model_column(Product, "is_bundle"),
    model_column(Product, "reorder_point"),
    model_column(Product, "lead_time_days"),
    model_column(Product, "safety_days"),
    model_column(Product, "default_supplier", "supplier", "供应商"),
    model_column(Product, "is_active"),
)

_TEXT = {"name": 255, "name_en": 255, "brand": 100, "barcode": 64}
_DECIMALS = {"weight_kg": 3, "length_cm": 1, "width_cm": 1, "height_cm": 1}
_INTS = {"reorder_point": 2**31 - 1, "lead_time_days": 32767, "safety_days": 32767}
_BOOLS = ("is_bundle", "is_active")
_CATEGORY_SEPARATORS = (" > ", ">", " / ", "/")


def category_path(text: str) -> tuple[str, ...]:
    for separator in _CATEGORY_SEPARATORS:
        if separator in text:
            return tuple(part.strip() for part in text.split(separator))
    return (text.strip(),)


class ProductsImporter(TemplateImporter):
    columns = COLUMNS

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.known_currencies = set(Currency.objects.values_list("code", flat=True))
        self.categories: dict[tuple[str, ...], int] = {}
        by_pk = {pk: (name, parent) for pk, name, parent in Category.objects.values_list("pk", "name", "parent_id")}

        def path(pk):
            name, parent = by_pk[pk]
            return (*path(parent), name) if parent else (name,)

        for pk in by_pk:
            self.categories[path(pk)] = pk

    def key_of(self, row, cells):
        sku = self.require(row, cells, "sku")
        if len(sku) > 64:
            self.errors.add(row, self.label("sku"), f"SKU 长度不能超过 64 个字符（当前 {len(sku)} 个）。")
            return None
        return (sku,) if sku else None

    def read(self, record: Record, cells):
        row, provided = record.row, record.values
        for name, limit in _TEXT.items():
            if cells.get(name):
                provided[name] = self.parse(row, cells, name, values.text, max_length=limit, label=self.label(name))
        if cells.get("cost_price"):
            provided["cost_price"] = self.parse(row, cells, "cost_price", values.money)
        if cells.get("cost_currency"):
            provided["cost_currency_id"] = self.parse(row, cells, "cost_currency", values.currency,
                                                      known=self.known_currencies)
        for name, places in _DECIMALS.items():
            if cells.get(name):
                provided[name] = self.parse(row, cells, name, values.decimal, places=places, label=self.label(name))
        for name, limit in _INTS.items():
            if cells.get(name):
                number = self.parse(row, cells, name, values.integer, label=self.label(name))
                if number is not None and number > limit:
                    self.errors.add(row, self.label(name), f"{self.label(name)}不能大于 {limit}。")
                provided[name] = number
        for name in _BOOLS:
            if cells.get(name):
                provided[name] = self.parse(row, cells, name, values.boolean)
        if cells.get("category"):
            path = category_path(cells["category"])
            if not all(path) or any(len(part) > 100 for part in path):
                self.errors.add(row, self.label("category"), f"类目“{cells['category']}”无效（每级 1–100 个字符）。")
            record.refs["category"] = path
        if cells.get("default_supplier"):
            record.refs["supplier"] = cells["default_supplier"]

    def write(self, records, *, write):
        skus = [record.key[0] for record in records]
        existing = {product.sku: product for product in Product.objects.filter(sku__in=skus)}
        supplier_codes = {record.refs["supplier"] for record in records if "supplier" in record.refs}
        suppliers = dict(Supplier.objects.filter(code__in=supplier_codes).values_list("code", "pk"))
        errors_before = self.errors.total
        for record in records:
            if record.key[0] not in existing and not record.values.get("name"):
                self.errors.add(record.row, self.label("name"), "新商品必须填写名称。")
            code = record.refs.get("supplier")
            if code is not None and code not in suppliers:
                self.errors.add(record.row, self.label("default_supplier"), f"供应商“{code}”不存在。")
        if not write or self.errors.total != errors_before:
            return

        now = timezone.now()
        creates: list[Product] = []
        updates: list[Product] = []
        changed_fields: set[str] = set()
        for record in records:
            provided = dict(record.values)
            if "category" in record.refs:
                provided["category_id"] = self._category(record.refs["category"])
            if "supplier" in record.refs:
                provided["default_supplier_id"] = suppliers[record.refs["supplier"]]
            product = existing.get(record.key[0])
            if product is None:
                provided.setdefault("cost_currency_id", settings.BASE_CURRENCY)
                creates.append(Product(sku=record.key[0], **provided))
                continue
            changes = [name for name, value in provided.items() if getattr(product, name) != value]
            if not changes:
                self.counts.unchanged += 1
                continue
            for name in changes:
                setattr(product, name, provided[name])
            product.updated_at = now
            changed_fields.update(changes)
            updates.append(product)
        if creates:
            Product.objects.bulk_create(creates, batch_size=self.chunk_size)
        if updates:
            Product.objects.bulk_update(updates, sorted(changed_fields) + ["updated_at"], batch_size=self.chunk_size)
        self.counts.created += len(creates)
        self.counts.updated += len(updates)

    def _category(self, path: tuple[str, ...]) -> int:
        """The category at `path`, creating the missing levels."""
        parent = None
        for depth in range(1, len(path) + 1):
            pk = self.categories.get(path[:depth])
            if pk is None:
                pk = Category.objects.create(name=path[depth - 1], parent_id=parent).pk
                self.categories[path[:depth]] = pk
            parent = pk
        return parent
