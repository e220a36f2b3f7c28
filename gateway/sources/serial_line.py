"""Serial source: reads CR LF terminated lines from a port with pyserial (real UART or a pty)."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from gateway.model import RawFrame
from gateway.sources import FrameSink

if TYPE_CHECKING:
    import serial

log = logging.getLogger(__name__)

MAX_LINE_BYTES = 512  # far above NMEA's 82; longer runs without a newline are line noise


class SerialLineSource:
    """One device on one port. A port that vanishes (USB unplugged, simulator restarted) is
    reopened with backoff; bytes without a line end past `MAX_LINE_BYTES` are passed on as one
    oversized frame so that the parser rejects and counts them."""

    def __init__(self, device_id: str, port: str, baudrate: int = 9600) -> None:
        self.name = f"serial:{device_id}"
        self.device_id = device_id
        self.port = port
        self.baudrate = baudrate
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.bytes_in = 0

    def start(self, on_frame: FrameSink) -> None:
        # pyserial is loaded here, by the first serial source to start, so a gateway without
        # serial devices never loads it (~0.8 MB resident); and here rather than in the
        # thread, so the port opens as promptly as before (opening it discards waiting input).
        import serial  # noqa: F401

        self._thread = threading.Thread(target=self._run, args=(on_frame,), name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=3)

    def _run(self, on_frame: FrameSink) -> None:
        import serial  # loaded by `start`

        backoff = 0.2
        while not self._stop.is_set():
            try:
                with serial.Serial(self.port, self.baudrate, timeout=0.2) as port:
                    log.info("serial port open", extra={"device": self.device_id, "port": self.port})
                    backoff = 0.2
                    self._read(port, on_frame)
            except (serial.SerialException, OSError) as exc:
                log.warning("serial port unavailable; retrying", extra={"device": self.device_id, "port": self.port, "error": str(exc), "retry_s": backoff})
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)

    def _read(self, port: serial.Serial, on_frame: FrameSink) -> None:
        buf = bytearray()
        while not self._stop.is_set():
            chunk = port.read(max(1, port.in_waiting))
            if not chunk:
                continue
            self.bytes_in += len(chunk)
            buf.extend(chunk)
            while True:
                nl = buf.find(b"\n")
                if nl < 0:
                    break
                line = bytes(buf[: nl + 1])
                del buf[: nl + 1]
                self._emit(line, on_frame)
            if len(buf) > MAX_LINE_BYTES:
                self._emit(bytes(buf), on_frame)
                buf.clear()

    def _emit(self, line: bytes, on_frame: FrameSink) -> None:
        if line.strip():
            on_frame(RawFrame("serial", line, self.device_id, datetime.now(timezone.utc)))
