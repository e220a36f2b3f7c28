"""What the uplink has sent and not yet seen stored: pure bookkeeping, no I/O.

An uplink message passes two acknowledgements. The broker's PUBACK says the broker has it; it
says nothing of ingest: Mosquitto 2.0 does not restore shared subscriptions from its
persistence file, so after a central broker restart, until the ingest workers subscribe again,
it accepts uplinks and drops them for want of a subscriber. Only ingest's `UplinkAck`, sent
once the message's items are committed and in the TSDB, lets the gateway delete them.

So a message is *sent* (awaiting the PUBACK, which paho resends for until it comes), then
*unacked* (awaiting ingest), then forgotten: on ingest's ack its outbox rows are deleted; after
`ack_timeout_s` without one, or on a reconnect, its rows are released to be sent again in a
new message. Ingest stores items by id, so a resend costs bytes, never a duplicate. Nothing of
this is written down: after a gateway restart every row still in the outbox is sent again.

A released message's id is remembered a while (`RELEASED_ITEMS_KEPT`): ingest, slow rather
than gone, may ack it after all, and its rows are then deleted at once instead of waiting for
the ack of the message that carries them again.
"""

from __future__ import annotations

from array import array
from collections import OrderedDict
from dataclasses import dataclass, field

from contract.downlink import UplinkAck


@dataclass(slots=True)
class SentMessage:
    msg: int  # the id ingest's ack names
    mid: int  # paho's packet id, for the PUBACK
    seqs: list[int]  # outbox rows it carries
    nbytes: int
    puback_at: float | None = None  # on the uplink's clock; None: the broker has not acknowledged it
    distress: bool = False  # carries a distress call: waits `distress_timeout_s` for its ack, not the plain one


@dataclass(frozen=True, slots=True)
class Settled:
    """What an ack settled: rows to delete, and how many items ingest stored or refused."""

    seqs: list[int] = field(default_factory=list)
    stored_items: int = 0
    rejected_items: int = 0
    messages: int = 0
    #: Rows of released messages ingest acked late, as stored or as refused: some may be gone
    #: already (acked in a newer message), so the caller counts what deleting them deletes.
    late_stored: list[int] = field(default_factory=list)
    late_rejected: list[int] = field(default_factory=list)


#: Rows of released messages whose ids are remembered, at most (8 bytes each): two in-flight
#: windows (`gateway.uplink.MAX_INFLIGHT_ITEMS`), enough for the acks of one slow ingest spell.
RELEASED_ITEMS_KEPT = 80_000


class InFlight:
    """Messages on their way, by id; the seqs they carry, which are neither sent again nor
    evicted while here. Bounded by the caller (`len()` messages, `len(seqs)` items)."""

    def __init__(self, released_items_kept: int = RELEASED_ITEMS_KEPT) -> None:
        if released_items_kept < 0:
            raise ValueError(f"released_items_kept must not be negative, not {released_items_kept}")
        self._by_msg: dict[int, SentMessage] = {}
        self._by_mid: dict[int, SentMessage] = {}
        self.seqs: set[int] = set()
        self._released: OrderedDict[int, array[int]] = OrderedDict()  # msg -> its rows, oldest first
        self._released_items = 0
        self._released_items_kept = released_items_kept

    def __len__(self) -> int:
        return len(self._by_msg)

    def messages(self) -> list[SentMessage]:
        return list(self._by_msg.values())

    def sent(self, message: SentMessage) -> None:
        if message.msg in self._by_msg:
            raise ValueError(f"uplink message id {message.msg} is already in flight")
        self._by_msg[message.msg] = message
        self._by_mid[message.mid] = message
        self.seqs.update(message.seqs)

    def puback(self, mid: int, now: float) -> SentMessage | None:
        """The broker has the message of packet `mid`; None if it was settled already (ingest
        can ack before the PUBACK is seen) or released."""
        message = self._by_mid.pop(mid, None)
        if message is None or self._by_msg.get(message.msg) is not message:
            return None
        message.puback_at = now
        return message

    def acked(self, ack: UplinkAck) -> Settled:
        """Forget the messages `ack` names. An id released not long ago settles its rows too
        (they are deleted, and dropped from any newer message carrying them again); ids unknown
        here (sent before a restart, or released long ago) are ignored: their rows went out
        again and will be acked as such."""
        seqs: list[int] = []
        late: dict[bool, list[int]] = {True: [], False: []}
        stored = rejected = messages = 0
        for msgs, is_stored in ((ack.stored, True), (ack.rejected, False)):
            for msg in msgs:
                message = self._forget(msg)
                if message is None:
                    rows = self._released.pop(msg, None)
                    if rows is not None:
                        self._released_items -= len(rows)
                        late[is_stored].extend(rows)
                        messages += 1
                    continue
                seqs.extend(message.seqs)
                messages += 1
                if is_stored:
                    stored += len(message.seqs)
                else:
                    rejected += len(message.seqs)
        self._drop_rows(set(late[True]) | set(late[False]))
        return Settled(seqs, stored, rejected, messages, late[True], late[False])

    def _drop_rows(self, gone: set[int]) -> None:
        """Rows deleted on a late ack leave the in-flight messages that carry them again, so
        those messages' own acks count only what they still settle; a message left with no
        row is forgotten (its slot is free; its PUBACK and ack then find nothing)."""
        if not gone or not (gone & self.seqs):
            return
        for message in list(self._by_msg.values()):
            if gone.isdisjoint(message.seqs):
                continue
            message.seqs = [s for s in message.seqs if s not in gone]
            if not message.seqs:
                self._forget(message.msg)
        self.seqs -= gone

    def expired(self, now: float, ack_timeout_s: float, distress_timeout_s: float | None = None) -> list[SentMessage]:
        """Release the messages the broker acknowledged at least `ack_timeout_s` ago (those
        carrying a distress call: `distress_timeout_s`, if shorter) and ingest never did: their
        rows are to be sent again."""
        urgent = ack_timeout_s if distress_timeout_s is None else min(ack_timeout_s, distress_timeout_s)
        late = [
            m for m in self._by_msg.values()
            if m.puback_at is not None and now - m.puback_at >= (urgent if m.distress else ack_timeout_s)
        ]
        for m in late:
            self._forget(m.msg)
        self._remember(late)
        return late

    def release_unacked(self) -> list[SentMessage]:
        """After a reconnect without the session (the broker lost it, and with it what it held):
        release every message the broker acknowledged and ingest has not. Those still awaiting
        a PUBACK stay: paho sends them again itself."""
        unacked = self.take_pubacked()
        self._remember(unacked)
        return unacked

    def take_pubacked(self) -> list[SentMessage]:
        """Forget every message the broker acknowledged (and ingest has not), remembering none."""
        unacked = [m for m in self._by_msg.values() if m.puback_at is not None]
        for m in unacked:
            self._forget(m.msg)
        return unacked

    def restart_timers(self, now: float) -> None:
        """After a reconnect that resumed the session: ingest's acks queued at the broker come
        now, so every PUBACKed message gets its full ack wait again from `now`."""
        for m in self._by_msg.values():
            if m.puback_at is not None:
                m.puback_at = now

    def _remember(self, released: list[SentMessage]) -> None:
        for m in released:
            self._released[m.msg] = array("q", m.seqs)
            self._released_items += len(m.seqs)
        while self._released_items > self._released_items_kept:
            _, rows = self._released.popitem(last=False)
            self._released_items -= len(rows)

    def oldest_unacked_age(self, now: float) -> float:
        """Seconds since the broker acknowledged the oldest message ingest has not; 0 if none."""
        oldest = min((m.puback_at for m in self._by_msg.values() if m.puback_at is not None), default=None)
        return 0.0 if oldest is None else max(0.0, now - oldest)

    def _forget(self, msg: int) -> SentMessage | None:
        message = self._by_msg.pop(msg, None)
        if message is None:
            return None
        if self._by_mid.get(message.mid) is message:
            del self._by_mid[message.mid]
        self.seqs.difference_update(message.seqs)
        return message
