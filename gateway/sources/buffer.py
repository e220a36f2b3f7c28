"""The frames waiting for the gateway loop, and the loop's wake-up.

Two kinds of producer feed it. Sources with a thread of their own (serial ports) `put`: they
block while the buffer is full, which pushes back on the device, and they wake the loop, which
may be sleeping in `select`. Sources the loop runs itself (MQTT) `put_own`: that never blocks,
because the loop reads from the network only as much as `room()` allows; a blocked loop thread
would wait for itself forever.
"""

from __future__ import annotations

import collections
import socket
import threading

from gateway.model import RawFrame


class FrameBuffer:
    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._items: collections.deque[RawFrame] = collections.deque()
        self._space = threading.Condition(threading.Lock())
        self._blocked = 0  # producers waiting for space
        self._closed = False
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)

    def qsize(self) -> int:
        return len(self._items)

    def room(self) -> int:
        return max(0, self.maxsize - len(self._items))

    def put(self, frame: RawFrame) -> None:
        """From a producer thread: wait while full (or until `close`), then wake the loop."""
        with self._space:
            while len(self._items) >= self.maxsize and not self._closed:
                self._blocked += 1
                try:
                    self._space.wait(0.5)
                finally:
                    self._blocked -= 1
            self._items.append(frame)
        self.wake()

    def put_own(self, frame: RawFrame) -> None:
        """From the loop thread itself: never blocks (the loop respects `room()`)."""
        self._items.append(frame)

    def take(self, limit: int) -> list[RawFrame]:
        """Up to `limit` frames, oldest first, without waiting."""
        items = self._items
        n = min(limit, len(items))
        batch = [items.popleft() for _ in range(n)]
        if n and self._blocked:
            with self._space:
                self._space.notify_all()
        return batch

    def wake(self) -> None:
        """Make the loop's next (or current) `select` on `fileno()` return at once."""
        try:
            self._wake_w.send(b"\0")
        except (BlockingIOError, OSError):
            pass  # a full pipe already wakes the loop; a closed one has no loop left to wake

    def fileno(self) -> int:
        return self._wake_r.fileno()

    def clear_wake(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass

    def close(self) -> None:
        """Release blocked producers (their frames are still appended, then dropped with the buffer)."""
        with self._space:
            self._closed = True
            self._space.notify_all()
        self._wake_r.close()
        self._wake_w.close()
