"""The master catalogue: categories, 500 products (about 5% bundles) with costs in CNY."""
from dataclasses import dataclass, field
from decimal import Decimal

from apps.inventory.models import BundleComponent, Category, Product, Supplier

from .context import DemoContext
from .names import CATALOGUE, variants
from .reference import suppliers_by_category

PRODUCT_COUNT = 500
BUNDLE_SHARE = 0.05

MODEL_COST = {"STD": 1.0, "PRO": 1.25, "MAX": 1.4, "MINI": 0.85}
PACK_COUNT = {"1P": 1, "2P": 2, "3P": 3, "5P": 5}


@dataclass
class ProductSpec:
    """A product as the generator knows it, before and after it is written."""

    sku: str
    name: str
    name_en: str
    category_code: str
    subcategory: Category
    brand: str
    cost: Decimal
    weight: Decimal
    supplier: Supplier | None
    lead_time_days: int
    popularity: float
    components: list[tuple["ProductSpec", int]] = field(default_factory=list)
    pk: int | None = None

    @property
    def is_bundle(self) -> bool:
        return bool(self.components)

    def stock_parts(self) -> tuple[tuple[int, int], ...]:
        """(product id, quantity) that leave the shelf when one unit sells: bundles are virtual
        and ship as their components."""
        if self.components:
            return tuple((component.pk, quantity) for component, quantity in self.components)
        return ((self.pk, 1),)


def _ean13(number: int) -> str:
    digits = f"69{number:010d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return digits + str((10 - total % 10) % 10)


def _categories() -> dict[tuple[str, str], Category]:
    """Top categories and their subcategories, reusing rows that already exist."""
    result = {}
    for code, zh, _en, _brand, subcategories in CATALOGUE:
        top = Category.objects.filter(parent__isnull=True, name=zh).first() or Category.objects.create(name=zh)
        for sub_zh, _sub_en, _items in subcategories:
            result[(code, sub_zh)], _ = Category.objects.get_or_create(parent=top, name=sub_zh)
    return result


def _simple_specs(ctx: DemoContext, categories, suppliers: dict[str, Supplier], count: int) -> list[ProductSpec]:
    rng = ctx.rng("catalogue")
    served = suppliers_by_category()
    items = []
    for code, _zh, _en, brand, subcategories in CATALOGUE:
        for sub_zh, _sub_en, entries in subcategories:
            for entry in entries:
                items.append((code, brand, categories[(code, sub_zh)], entry, variants(entry[5])))
    # Round-robin over items so every item is in the catalogue with some of its variants.
    picks = []
    depth = 0
    while len(picks) < count:
        for item_index, item in enumerate(items):
            if depth < len(item[4]) and len(picks) < count:
                picks.append((item_index, item, item[4][depth]))
        depth += 1
    picks.sort(key=lambda pick: (pick[0], pick[2][2]))

    specs = []
    for item_index, (code, brand, subcategory, entry, _), (var_zh, var_en, var_code) in picks:
        item_zh, item_en, cost_low, cost_high, weight, kind = entry
        factor = 1.0
        if kind == "model":
            factor = MODEL_COST[var_code]
        elif kind == "pack":
            factor = PACK_COUNT[var_code] * 0.8 if var_code != "1P" else 1.0
        supplier = suppliers[rng.choice(served[code])]
        specs.append(
            ProductSpec(
                sku=f"{code}-{item_index + 1:03d}-{var_code}",
                name=f"{item_zh}（{var_zh}）",
                name_en=f"{brand} {item_en} - {var_en}",
                category_code=code,
                subcategory=subcategory,
                brand=brand,
                cost=Decimal(str(round(rng.uniform(cost_low, cost_high) * factor, 1))).quantize(Decimal("0.01")),
                weight=Decimal(str(round(weight * (factor if kind == "pack" else 1.0), 3))),
                supplier=supplier,
                lead_time_days=supplier.lead_time_days,
                popularity=0.0,
            )
        )
    # Sales follow a long tail: a few hits, many slow movers.
    ranks = list(range(len(specs)))
    rng.shuffle(ranks)
    for spec, rank in zip(specs, ranks, strict=True):
        spec.popularity = 1.0 / (rank + 8) ** 0.95
    return specs


def _bundle_specs(ctx: DemoContext, simple: list[ProductSpec], count: int) -> list[ProductSpec]:
    rng = ctx.rng("bundles")
    by_category: dict[str, list[ProductSpec]] = {}
    for spec in simple:
        by_category.setdefault(spec.category_code, []).append(spec)
    codes = sorted(by_category)
    bundles = []
    for number in range(1, count + 1):
        pool = by_category[codes[number % len(codes)]]
        parts = rng.sample(pool, rng.choice([2, 2, 3]))
        components = [(part, rng.choice([1, 1, 2])) for part in parts]
        first = parts[0]
        names = " + ".join(part.name.split("（")[0] for part in parts)
        bundles.append(
            ProductSpec(
                sku=f"BD-{number:03d}",
                name=f"{names} 超值组合装",
                name_en=f"{first.brand} Bundle: " + " + ".join(part.name_en.split(" - ")[0] for part in parts),
                category_code=first.category_code,
                subcategory=first.subcategory,
                brand=first.brand,
                cost=sum((part.cost * qty for part, qty in components), Decimal("0.00")),
                weight=sum((part.weight * qty for part, qty in components), Decimal("0.000")),
                supplier=first.supplier,
                lead_time_days=first.lead_time_days,
                popularity=sum(part.popularity for part in parts) / len(parts) * 0.6,
                components=components,
            )
        )
    return bundles


def create_products(ctx: DemoContext, suppliers: dict[str, Supplier]) -> list[ProductSpec]:
    """Writes the catalogue; returns the specs with their primary keys."""
    rng = ctx.rng("product-details")
    categories = _categories()
    bundle_count = round(PRODUCT_COUNT * BUNDLE_SHARE)
    simple = _simple_specs(ctx, categories, suppliers, PRODUCT_COUNT - bundle_count)
    specs = simple + _bundle_specs(ctx, simple, bundle_count)
    rows = []
    for number, spec in enumerate(specs, start=1):
        side = float(spec.weight) ** (1 / 3) * 20 + 5
        rows.append(
            Product(
                sku=spec.sku, name=spec.name, name_en=spec.name_en, category=spec.subcategory, brand=spec.brand,
                barcode=_ean13(1_234_000 + number), cost_price=spec.cost, cost_currency_id="CNY",
                weight_kg=spec.weight,
                length_cm=Decimal(str(round(side * rng.uniform(1.0, 1.6), 1))),
                width_cm=Decimal(str(round(side * rng.uniform(0.7, 1.0), 1))),
                height_cm=Decimal(str(round(side * rng.uniform(0.3, 0.8), 1))),
                is_bundle=spec.is_bundle, lead_time_days=spec.lead_time_days,
                safety_days=rng.choice([7, 7, 10, 14]), default_supplier=spec.supplier,
            )
        )
    Product.objects.bulk_create(rows, batch_size=ctx.batch_size)
    for spec, row in zip(specs, rows, strict=True):
        spec.pk = row.pk
    BundleComponent.objects.bulk_create(
        [
            BundleComponent(bundle_id=spec.pk, component_id=part.pk, quantity=qty)
            for spec in specs
            for part, qty in spec.components
        ]
    )
    return specs


def set_reorder_points(specs: list[ProductSpec], daily_demand: dict[int, float]) -> None:
    """Reorder point = expected demand over lead time plus safety days (what the hub reorders at)."""
    products = []
    for spec in specs:
        if spec.is_bundle:
            continue
        product = Product(pk=spec.pk)
        product.reorder_point = max(5, round(daily_demand.get(spec.pk, 0.0) * (spec.lead_time_days + 7)))
        products.append(product)
    Product.objects.bulk_update(products, ["reorder_point"], batch_size=500)
