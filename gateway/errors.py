"""Exceptions of the gateway package: one base, specific subclasses."""


class GatewayError(Exception):
    """Base of every error the gateway raises on purpose."""


#: Why a frame is refused: the `reason` label of `tepi_gateway_rejected_total`. Kept small, so a
#: dashboard can list them; a new reason is added here (and to the README) or not at all. The
#: wording is for every device kind; what each reason means for one kind is in its package
#: (`kinds.awlr.edge` for the AWLR).
REJECTION_REASONS: dict[str, str] = {
    "garbage": "bytes that are not a frame of the device's wire format",
    "checksum": "a frame whose checksum does not match",
    "truncated": "a frame with fields missing",
    "too_large": "longer than the wire format or max_payload_bytes allows",
    "not_json": "an MQTT payload that is not JSON",
    "malformed": "a field with an invalid value or an unknown field",
    "wrong_type": "a field of the wrong type: a fraction or text where an integer belongs, a number written as text",
    "out_of_range": "a number not finite (NaN, Infinity, 1e999999) or outside the span the kind or station declares",
    "duplicate_key": "a JSON object naming a field twice",
    "unknown_device": "a sender the gateway's configuration does not list",
    "wrong_transport": "a device heard on a transport it is not configured for",
    "station_mismatch": "a frame claiming a station other than its device's",
    "rate_limited": "beyond the device's rate (device_rate_per_s, device_burst)",
    "future_timestamp": "a time ahead of the gateway's clock by more than max_future_skew_s",
    "duplicate": "a reading already accepted (same time, or same seq)",
    "out_of_order": "older than the device's last accepted reading",
    "late": "in a window already summarised",
    "no_checksum": "an NMEA sentence without its *hh checksum, which the fish-finder's format requires",
    "non_ascii": "bytes outside printable ASCII on a serial line: noise, or the port at the wrong baud rate",
    "unknown": "a well-formed NMEA sentence of a type the device's wire format does not know",
    "no_fix": "an instrument saying it has no valid reading: GNSS without a fix, a sounder without bottom",
    "incomplete_ping": "an echogram ping of which fragments were lost (counted once per ping)",
    "decoder_error": "a frame the device kind's decoder failed on unexpectedly: a defect of Tepi's, logged, costing only that frame",
}


class FrameRejected(GatewayError):
    """A frame from a device could not be accepted; `reason` (one of `REJECTION_REASONS`) is
    the counted metric label."""

    def __init__(self, reason: str, detail: str) -> None:
        if reason not in REJECTION_REASONS:
            raise ValueError(f"undocumented rejection reason {reason!r}")
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class OutboxError(GatewayError):
    """The outbox file cannot be opened or written."""


class TransportError(GatewayError):
    """A serial port or broker cannot be reached."""
