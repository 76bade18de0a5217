"""The current request id, carried in a context variable so every log line can name it."""
import contextvars

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
