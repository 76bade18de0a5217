"""ASGI entry point: HTTP through Django; WebSocket routes are added by the realtime layer."""
import gc
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings")
django.setup(set_prefix=False)

from erp.handlers import SyncChainASGIHandler  # noqa: E402

django_asgi_app = SyncChainASGIHandler()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from erp.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter(websocket_urlpatterns),
    }
)

# Everything loaded so far (Django, apps, URL patterns) lives as long as the worker: moved out of the
# collector's reach, a full collection no longer walks it, which had cost a request now and then
# tens of milliseconds.
gc.freeze()
