"""Root conftest: its presence puts the repository root on sys.path, so `erp` and `apps` import
under pytest however it is started. Settings: pytest.ini (erp.settings_test). Shared fixtures
that every app needs go here; app-specific ones go in apps/<app>/tests/conftest.py."""
