"""Exceptions of the gateway package: one base, specific subclasses."""


class GatewayError(Exception):
    """Base of every error the gateway raises on purpose."""


class FrameRejected(GatewayError):
    """A frame from a device could not be accepted; `reason` is the counted metric label."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class OutboxError(GatewayError):
    """The outbox file cannot be opened or written."""


class TransportError(GatewayError):
    """A serial port or broker cannot be reached."""
