"""Registry of connectors: a platform code maps to its DataCollector. Adding a platform is
adding one module in this package that decorates its class with @register("code")."""
import importlib
import pkgutil

from .base import DataCollector

_REGISTRY: dict[str, type[DataCollector]] = {}
_NOT_CONNECTORS = {"base", "errors", "http", "cleaning"}
_discovered = False
_discovered = False


def register(code: str):
    def decorator(cls: type[DataCollector]) -> type[DataCollector]:
        cls.platform_code = code
        _REGISTRY[code] = cls
        return cls

    return decorator


def _discover() -> None:
    # Once per process, by a flag rather than "the registry is empty": a module imported directly
    # (a test importing its connector) must not hide the others.
    global _discovered
    if _discovered:
        return
    for module in pkgutil.iter_modules(__path__):
        if module.name not in _NOT_CONNECTORS and not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")
    _discovered = True


def connector_class(code: str) -> type[DataCollector] | None:
    _discover()
    return _REGISTRY.get(code)


def registered_codes() -> list[str]:
    _discover()
    return sorted(_REGISTRY)
