"""Sales analyses: pure reads over the rollups (SalesDaily, SkuSalesDaily) and indexed order queries."""
