"""What the centre sends a gateway on its downlink topic (`contract.topics.downlink_topic`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from contract.ids import MAX_MESSAGE_ID


#: Message ids per list of one `UplinkAck`; ingest splits a larger batch's acks.
ACK_IDS_MAX = 10_000


class UplinkAck(BaseModel):
    """Ingest to a gateway: the uplink messages named in `stored` are in the central stores
    (state committed, points in the TSDB), or were before (a duplicate); those in `rejected`
    can never be stored (malformed, or claiming another gateway) and were counted centrally.
    Either way the gateway may forget their items: only then does it delete them, since the
    broker's PUBACK proves only that the broker had them, and a broker restart loses shared
    subscriptions (Mosquitto 2.0 restores plain ones only), so a message accepted with no
    subscriber is dropped silently.

    One ack names all messages of one gateway in one ingest batch. Compact on purpose: it
    travels on the gateway's (often metered) cellular link. Other downlink messages (a kind's,
    such as the fish-finder's SOS status) are told apart by `type` and carry their `kind`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["uplink_ack"] = "uplink_ack"
    stored: list[Annotated[int, Field(ge=0, le=MAX_MESSAGE_ID, strict=True)]] = Field(default_factory=list, max_length=ACK_IDS_MAX)
    rejected: list[Annotated[int, Field(ge=0, le=MAX_MESSAGE_ID, strict=True)]] = Field(default_factory=list, max_length=ACK_IDS_MAX)


def uplink_acks(stored: list[int], rejected: list[int]) -> list[UplinkAck]:
    """The acks naming these message ids: one, or several when a batch (ingest takes up to
    100,000 messages at once) holds more than `ACK_IDS_MAX` of one gateway's."""
    return [
        UplinkAck(stored=stored[i : i + ACK_IDS_MAX], rejected=rejected[i : i + ACK_IDS_MAX])
        for i in range(0, max(len(stored), len(rejected), 1), ACK_IDS_MAX)
    ]


def encode_ack(ack: UplinkAck) -> bytes:
    return ack.model_dump_json().encode()


@dataclass(frozen=True, slots=True)
class KindDownlink:
    """A downlink message for a device kind's edge side (`kind`, `type`, the rest its own): the
    generic gateway hands `body` to that kind, which validates it with its own model. Kept as
    bytes so that `contract` never imports a kind. `body` is left out of the repr: a kind's
    message may carry secrets (the badge roster's identity keys), and a repr ends up in logs
    and tracebacks."""

    kind: str
    type: str
    body: bytes = field(repr=False)


def decode_downlink(payload: bytes) -> UplinkAck | KindDownlink:
    """A downlink payload as its typed message; anything else is a `ValueError` (pydantic's
    `ValidationError` is one), a message without its `type` too: a kind's message must never
    pass for an ack. A message that is not an ack must name its `kind` (text)."""
    try:
        head = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"downlink payload is not JSON: {exc}") from None
    if not isinstance(head, dict) or not isinstance(head.get("type"), str):
        raise ValueError("a downlink message is an object naming its type")
    if head["type"] != "uplink_ack":
        kind = head.get("kind")
        if not isinstance(kind, str) or not kind:
            raise ValueError(f"downlink message {head['type'][:40]!r} names no kind")
        return KindDownlink(kind, head["type"], bytes(payload))
    return UplinkAck.model_validate_json(payload)
