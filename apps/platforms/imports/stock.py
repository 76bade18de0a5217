"""Stock levels template: counted on-hand per (SKU, warehouse code). Each changed row becomes one
stock adjustment through `stock_level_set`, so the ledger keeps summing to on-hand; the
reorder point is a setting of the stock row, not a movement."""
from django.utils import timezone

from apps.core.exceptions import DomainError
from apps.inventory.models import InventoryItem, Product, StockAdjustment, Warehouse
from apps.inventory.services import stock_level_set

from . import values
from .templates import Record, TemplateImporter, model_column

COLUMNS = (
    model_column(Product, "sku", "商品SKU", required=True),
    model_column(InventoryItem, "warehouse", "warehouse_code", "仓库编码", required=True),
    model_column(InventoryItem, "on_hand", "quantity", "qty", "库存", "数量", required=True),
    model_column(InventoryItem, "reorder_point", "补货点"),
)


class StockImporter(TemplateImporter):
    columns = COLUMNS
    chunk_size = 500

    def key_of(self, row, cells):
        sku = self.require(row, cells, "sku")
        warehouse = self.require(row, cells, "warehouse")
        return (sku, warehouse) if sku and warehouse else None

    def key_label(self):
        return self.label("sku")

    def read(self, record: Record, cells):
        row = record.row
        if self.require(row, cells, "on_hand"):
            record.values["on_hand"] = self.parse(row, cells, "on_hand", values.integer, label="在库数量")
        if cells.get("reorder_point"):
            record.values["reorder_point"] = self.parse(row, cells, "reorder_point", values.integer, label="补货点")

    def write(self, records, *, write):
        products = Product.objects.in_bulk({record.key[0] for record in records}, field_name="sku")
        warehouses = Warehouse.objects.in_bulk({record.key[1] for record in records}, field_name="code")
        errors_before = self.errors.total
        for record in records:
            sku, code = record.key
            if sku not in products:
                self.errors.add(record.row, self.label("sku"), f"商品 SKU“{sku}”不存在。")
            if code not in warehouses:
                self.errors.add(record.row, self.label("warehouse"), f"仓库“{code}”不存在。")
        if self.errors.total != errors_before:
            return
        items = {
            (item.product_id, item.warehouse_id): item
            for item in InventoryItem.objects.filter(
                product_id__in={p.pk for p in products.values()}, warehouse_id__in={w.pk for w in warehouses.values()}
            )
        }
        for record in records:
            item = items.get((products[record.key[0]].pk, warehouses[record.key[1]].pk))
            if item is not None and record.values["on_hand"] < item.reserved:
                self.errors.add(record.row, self.label("on_hand"),
                                f"在库数量 {record.values['on_hand']} 小于已预留的 {item.reserved}（未完成的出库单）。")
        if not write or self.errors.total != errors_before:
            return

        reorder_changes: list[InventoryItem] = []
        for record in records:
            product, warehouse = products[record.key[0]], warehouses[record.key[1]]
            item = items.get((product.pk, warehouse.pk))
            on_hand = record.values["on_hand"]
            reorder_point = record.values.get("reorder_point")
            try:
                adjustment = stock_level_set(
                    product=product, warehouse=warehouse, on_hand=on_hand, reason=StockAdjustment.Reason.IMPORT,
                    note=f"导入 {self.job.original_filename}"[:255], user=self.user,
                )
            except DomainError as exc:  # e.g. below what is reserved for open shipments
                self.errors.add(record.row, self.label("on_hand"), exc.message)
                return
            if reorder_point is not None and (item is None or item.reorder_point != reorder_point):
                reorder_changes.append(InventoryItem(product=product, warehouse=warehouse, reorder_point=reorder_point))
            if item is None:
                self.counts.created += 1
            elif adjustment is not None or (reorder_point is not None and item.reorder_point != reorder_point):
                self.counts.updated += 1
            else:
                self.counts.unchanged += 1
        now = timezone.now()
        for change in reorder_changes:
            InventoryItem.objects.filter(product=change.product, warehouse=change.warehouse).update(
                reorder_point=change.reorder_point, updated_at=now
            )
