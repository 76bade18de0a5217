"""WebSocket URL patterns (the /ws/events/ consumer joins here)."""
websocket_urlpatterns: list = []
