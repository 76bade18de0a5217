"""Bringing orders in from anywhere (connectors, files, the API) exactly once: upsert keyed by
(shop, platform order id), with the finance records, stock effects and rollups that follow."""
from .types import CustomerData, LineData, OrderData, UpsertResult  # noqa: F401
from .upsert import orders_upsert  # noqa: F401
