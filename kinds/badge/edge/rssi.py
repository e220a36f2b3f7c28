"""Smoothing a badge's received signal strength at one scanner, and the distance it suggests.

Why smooth: indoors, the RSSI of one advertisement scatters around its mean with a standard
deviation of 1.5 to 3.7 dB (350 BLE samples per distance, 0.5 to 4 m, in M. Marolf, "Path loss
constant and RSSI distribution", https://blog.markmarolf.com/documentation/05-11-path-loss-constant/;
multipath and the body carrying the badge), so deciding presence on raw samples flaps around any
threshold.

`RssiFilter` is a one-dimensional Kalman filter with a random-walk model: the true level
drifts (a person moving about) with variance `process_var` dB² per second, and each sample
adds noise of variance `noise_var` dB². It is time-aware: samples come at irregular intervals
(a scanner misses advertisements, adverts are ~1 Hz with jitter), and the longer the gap the
more the prediction's uncertainty grows, so after a silence the next sample counts for more,
where a fixed-weight EMA would trust a stale value. With the defaults (3 dB noise, 0.5 dB²/s)
and a sample a second it settles to a gain of about 0.21 (a time constant of about 5 s) and a
residual scatter of about 1.4 dB: the 10 dB between an office's default enter and exit
thresholds is then about seven standard deviations.

Distance from the log-distance path-loss model, d = 10^((P1m - RSSI) / (10 n)), with P1m the
badge's advertised power at 1 m (iBeacon's measured power; Eddystone's 0 m power - 41 dB) and n
the path-loss exponent: 2 in free space, 2.4 to 4.3 indoors (2.4 fitted in a furnished room by
the measurements above; 2.6 for an office with soft partitions and 3.0 with hard ones in the
table of Wikipedia's "Log-distance path loss model", after Rappaport, "Wireless
Communications", 2002). Default 2.7: an office with furniture and people. A distance is an
estimate to report, never a decision input.
"""

from __future__ import annotations

import math

#: dB² of one advertisement's RSSI noise: (3 dB)², within the 1.5-3.7 dB reported indoors.
NOISE_VAR_DB2 = 9.0
#: dB² per second the true level may wander (a person walking about the room).
PROCESS_VAR_DB2_PER_S = 0.5
#: Default path-loss exponent indoors (2.4-4.3 measured; 2 in free space).
PATH_LOSS_EXPONENT = 2.7
#: Distances are reported up to this many metres (the items' bound); beyond, the model says nothing useful.
MAX_DISTANCE_M = 1000.0


class RssiFilter:
    """The smoothed RSSI of one badge at one scanner. `update(t, rssi)` with `t` in seconds
    (any origin, never decreasing; an older sample is taken as simultaneous); `level` is the
    estimate, `last_t` the time of the newest sample."""

    __slots__ = ("level", "var", "last_t", "noise_var", "process_var")

    def __init__(self, t: float, rssi: float, noise_var: float = NOISE_VAR_DB2, process_var: float = PROCESS_VAR_DB2_PER_S) -> None:
        if not (noise_var > 0 and process_var > 0 and math.isfinite(noise_var) and math.isfinite(process_var)):
            raise ValueError(f"variances must be positive and finite, not {noise_var}, {process_var}")
        if not math.isfinite(rssi):
            raise ValueError(f"an RSSI must be finite, not {rssi}")
        self.level = float(rssi)
        self.var = noise_var  # a first sample is as uncertain as one sample is
        self.last_t = t
        self.noise_var = noise_var
        self.process_var = process_var

    def update(self, t: float, rssi: float) -> float:
        dt = t - self.last_t
        if dt > 0:
            self.last_t = t
            p = self.var + self.process_var * dt
        else:
            p = self.var
        gain = p / (p + self.noise_var)
        self.level += gain * (rssi - self.level)
        self.var = (1.0 - gain) * p
        return self.level


def distance_m(rssi_dbm: float, tx_power_1m: float, exponent: float = PATH_LOSS_EXPONENT) -> float:
    """Metres from the badge that a smoothed RSSI suggests (log-distance path loss), capped at
    `MAX_DISTANCE_M`. `ValueError` for an exponent that is not positive or values not finite."""
    if not (math.isfinite(exponent) and exponent > 0):
        raise ValueError(f"the path-loss exponent must be positive, not {exponent}")
    if not (math.isfinite(rssi_dbm) and math.isfinite(tx_power_1m)):
        raise ValueError(f"RSSI and power must be finite, not {rssi_dbm}, {tx_power_1m}")
    exponent_10 = (tx_power_1m - rssi_dbm) / (10.0 * exponent)
    if exponent_10 >= 3.0:
        return MAX_DISTANCE_M
    return min(MAX_DISTANCE_M, 10.0**exponent_10)
