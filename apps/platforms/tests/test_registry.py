from apps.platforms.connectors import connector_class, registered_codes
from apps.platforms.connectors.base import DataCollector


def test_a_connector_imported_directly_does_not_hide_the_others():
    import apps.platforms.connectors.shopify  # noqa: F401  (registers itself on import)

    assert connector_class("shopify") is not None
    assert {"shopify"} <= set(registered_codes())
    assert all(issubclass(connector_class(code), DataCollector) for code in registered_codes())


def test_an_unknown_platform_has_no_connector():
    assert connector_class("no-such-platform") is None
