"""Django's ASGI handler with the middleware chain run synchronously, in one thread switch.

Every view of this project is synchronous, and so is most of the middleware (Django's own, WhiteNoise).
The stock ASGIHandler loads the chain in async mode: each MiddlewareMixin hook then runs through
sync_to_async and a sync-only middleware through async_to_sync, a dozen switches between the event
loop and the request's thread per request, measured at 5–20 ms of CPU per request on this project
(more with larger responses). Here the chain is loaded as under WSGI and the whole request runs in
the request's thread-sensitive executor once; reading the body, sending the response, and the
request_started/finished signals stay on Django's async path unchanged."""
from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler


class SyncChainASGIHandler(ASGIHandler):
    def load_middleware(self, is_async=False):
        super().load_middleware(is_async=False)

    async def get_response_async(self, request):
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)
