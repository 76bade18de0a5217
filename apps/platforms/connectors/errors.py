class ConnectorError(Exception):
    """A collection cannot go on; the run fails with this message as its reason."""


class AuthError(ConnectorError):
    """The platform refused our credentials (even after a token refresh): re-authorise the shop."""


class BudgetExhausted(ConnectorError):
    """The run used up the shop's request budget; the next run resumes from the checkpoint."""


class CleaningError(Exception):
    """One record cannot be turned into our model; it is quarantined with this reason."""
