"""What a boat's instruments tell the gateway, as plain values: the vocabulary shared by the
fish-finder's wire format (`wire`), its simulator and its edge processing.

Pure data, no parsing here. Times are UTC and timezone-aware; positions WGS 84 decimal degrees;
depths metres below the transducer unless a field says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import numpy as np


@dataclass(frozen=True, slots=True)
class Fix:
    """A GNSS position (RMC, GGA) with speed and course over ground where the sentence has them."""

    ts: datetime
    lat: float
    lon: float
    sog_kn: float | None = None
    cog_deg: float | None = None


@dataclass(frozen=True, slots=True)
class Depth:
    """Depth of water (DBT below transducer; DPT adds the transducer offset when known)."""

    ts: datetime
    depth_m: float
    offset_m: float | None = None


@dataclass(frozen=True, slots=True)
class WaterTemp:
    ts: datetime
    temp_c: float


@dataclass(frozen=True, slots=True)
class Ping:
    """One echogram column: volume backscattering strength Sv (dB re 1 m^-1) per depth bin.

    `sv_db[i]` covers depths [range_start_m + i*bin_m, range_start_m + (i+1)*bin_m).
    """

    ts: datetime
    seq: int
    bin_m: float
    sv_db: np.ndarray = field(compare=False)
    range_start_m: float = 0.0


DistressNature = Literal["undesignated", "mob", "sinking", "fire", "adrift", "abandon", "collision", "flooding"]


@dataclass(frozen=True, slots=True)
class Distress:
    """The SOS button was pressed (or released: `active` False cancels). `seq` numbers presses,
    so a repeated sentence of the same press is recognised."""

    ts: datetime
    seq: int
    nature: DistressNature = "undesignated"
    active: bool = True
    lat: float | None = None
    lon: float | None = None


InstrumentValue = Fix | Depth | WaterTemp | Ping | Distress
