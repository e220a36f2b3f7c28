"""Automatic Water Level Recorder (AWLR): river gauges reporting level in cm."""

from gateway.devices.awlr.kind import KIND, AwlrKind
from gateway.devices.awlr.processor import LevelProcessor

__all__ = ["KIND", "AwlrKind", "LevelProcessor"]
