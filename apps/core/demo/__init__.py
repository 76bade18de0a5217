"""Deterministic demo data for the whole ERP (`python manage.py seed_demo`).

Modules, in the order the runner uses them: reference (currencies, rates, platforms, warehouses,
suppliers), users (demo accounts, salespeople, targets), shops (shops, listings), catalogue
(products, bundles), volume (orders per day, time of day, stock forecast), orders and customers,
stock and purchasing (the ledger), finance (records, expenses, revenues)."""
from .context import DemoOptions
from .runner import DemoResult, database_has_orders, seed_demo

__all__ = ["DemoOptions", "DemoResult", "database_has_orders", "seed_demo"]
