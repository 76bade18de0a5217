"""Business-rule errors raised by services; the API turns them into 4xx responses."""


class DomainError(Exception):
    """A request that breaks a business rule. `field` names the input at fault, if any."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class InsufficientStock(DomainError):
    status_code = 409
    code = "insufficient_stock"


class InvalidStateTransition(DomainError):
    status_code = 409
    code = "invalid_state"


class MissingExchangeRate(DomainError):
    code = "missing_exchange_rate"
