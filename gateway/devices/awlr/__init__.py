"""Automatic Water Level Recorder (AWLR): river gauges reporting level in cm."""

from gateway.devices.awlr.kind import KIND, AwlrKind, LevelProcessor

__all__ = ["KIND", "AwlrKind", "LevelProcessor"]
