"""Local HTTP servers that reproduce each marketplace's documented contract (shared/contracts):
auth, pagination, filters, 429s, error bodies, and a data set that grows over time. The tests
run the connectors against them on loopback, and the demo's shops collect from them."""
