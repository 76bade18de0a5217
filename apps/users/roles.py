"""The predefined roles and the model permissions each one grants.

Entries are `app_label.model: actions` where actions are Django's add/change/delete/view, or a
full `app_label.codename` for custom permissions. `ALL` grants every permission of every model."""
from dataclasses import dataclass, field

ALL = "__all__"
FULL = ("add", "change", "delete", "view")
READ = ("view",)

OUR_APPS = ("users", "platforms", "sales", "inventory", "finance")


@dataclass(frozen=True)
class RoleDefinition:
    code: str
    name: str
    description: str
    spans_all_shops: bool
    models: dict[str, tuple[str, ...]] | str = field(default_factory=dict)
    extra: tuple[str, ...] = ()


ROLE_DEFINITIONS: tuple[RoleDefinition, ...] = (
    RoleDefinition(
        code="admin",
        name="管理员",
        description="全部功能与全部店铺",
        spans_all_shops=True,
        models=ALL,
    ),
    RoleDefinition(
        code="operations",
        name="运营",
        description="平台、店铺、平台商品、商品、订单、客户与销售分析",
        spans_all_shops=False,
        models={
            "platforms.platform": FULL,
            "platforms.shop": FULL,
            "platforms.listing": FULL,
            "platforms.collectionrun": ("add", "view"),
            "platforms.importjob": ("add", "view"),
            "platforms.quarantinedrecord": ("change", "view"),
            "inventory.product": FULL,
            "inventory.category": FULL,
            "inventory.bundlecomponent": FULL,
            "inventory.inventoryitem": READ,
            "sales.order": FULL,
            "sales.orderline": FULL,
            "sales.customer": FULL,
            "sales.salesperson": READ,
            "sales.salestarget": READ,
            "sales.salesdaily": READ,
            "sales.skusalesdaily": READ,
            "finance.currency": READ,
            "finance.exchangerate": READ,
        },
        extra=("sales.view_sales_analysis",),
    ),
    RoleDefinition(
        code="warehouse",
        name="仓库",
        description="库存、出入库、调拨、盘点、供应商、采购与发货",
        spans_all_shops=False,
        models={
            "inventory.product": READ,
            "inventory.category": READ,
            "inventory.bundlecomponent": READ,
            "inventory.warehouse": FULL,
            "inventory.inventoryitem": ("view", "change"),
            "inventory.stockmovement": READ,
            "inventory.stockadjustment": ("add", "view"),
            "inventory.stocktransfer": ("add", "view"),
            "inventory.supplier": FULL,
            "inventory.purchaseorder": FULL,
            "inventory.purchaseorderline": FULL,
            "inventory.shipment": FULL,
            "inventory.shipmentline": FULL,
            "sales.order": READ,
            "sales.orderline": READ,
            "platforms.shop": READ,
            "platforms.platform": READ,
            "platforms.importjob": ("add", "view"),  # stock-level files
        },
    ),
    RoleDefinition(
        code="finance",
        name="财务",
        description="查看销售，维护财务记录、费用审批、收入与利润",
        spans_all_shops=False,
        models={
            "sales.order": READ,
            "sales.orderline": READ,
            "sales.customer": READ,
            "sales.salesperson": READ,
            "sales.salestarget": FULL,
            "sales.salesdaily": READ,
            "sales.skusalesdaily": READ,
            "finance.currency": FULL,
            "finance.exchangerate": FULL,
            "finance.financialrecord": FULL,
            "finance.expense": FULL,
            "finance.revenue": FULL,
            "inventory.product": READ,
            "inventory.inventoryitem": READ,
            "inventory.purchaseorder": READ,
            "platforms.shop": READ,
            "platforms.platform": READ,
        },
        extra=("finance.approve_expense", "finance.view_profit", "sales.view_sales_analysis"),
    ),
    RoleDefinition(
        code="readonly",
        name="只读",
        description="只读访问业务数据",
        spans_all_shops=False,
        models={f"{app}.*": READ for app in OUR_APPS if app != "users"},
        extra=("sales.view_sales_analysis", "finance.view_profit"),  # reading includes the analyses
    ),
)


def permission_keys(definition: RoleDefinition, all_models: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """The (app_label, codename) pairs a role grants, given every (app_label, model) that exists."""
    if definition.models == ALL:
        return {("*", "*")}
    keys: set[tuple[str, str]] = set()
    for target, actions in definition.models.items():
        app_label, model = target.split(".")
        models = [m for a, m in all_models if a == app_label] if model == "*" else [model]
        for name in models:
            keys.update((app_label, f"{action}_{name}") for action in actions)
    for full in definition.extra:
        app_label, codename = full.split(".")
        keys.add((app_label, codename))
    return keys


def sync_roles(apps, *, only_add: bool = False) -> None:
    """Creates the predefined roles and grants their permissions. With `only_add`, permissions an
    administrator removed stay removed except for newly created models' (used after migrate)."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    Role = apps.get_model("users", "Role")
    ContentType = apps.get_model("contenttypes", "ContentType")
    all_models = list(ContentType.objects.values_list("app_label", "model"))
    by_key = {
        (app_label, codename): pk
        for pk, app_label, codename in Permission.objects.values_list("pk", "content_type__app_label", "codename")
    }
    for definition in ROLE_DEFINITIONS:
        group, _ = Group.objects.get_or_create(name=definition.name)
        Role.objects.update_or_create(
            group=group,
            defaults={
                "code": definition.code,
                "description": definition.description,
                "spans_all_shops": definition.spans_all_shops,
                "is_system": True,
            },
        )
        keys = permission_keys(definition, all_models)
        wanted = set(by_key.values()) if keys == {("*", "*")} else {by_key[k] for k in keys if k in by_key}
        if only_add:
            group.permissions.add(*wanted)
        else:
            group.permissions.set(wanted)
