"""A wind-driven sea at a moored buoy, with a storm passing: what the simulated buoy reports.

Wind: a steady trade (default 8 kn from the south-east, Bali's dry-season wind) and a storm whose
wind rises and falls as a Gaussian bump (default to 30 kn, peaking 6 hours in, about 3 hours
wide), gusting 1.3 times the mean (the WMO gust factor over open sea is about 1.2-1.4: WMO,
"Guidelines for converting between various wind averaging periods in tropical cyclone
conditions", 2010) with noise.

Waves: a swell (default 0.8 m, 12 s, from 200 degrees, the Indian Ocean swell south of Bali) and
a wind sea that grows towards the fully developed Pierson-Moskowitz sea of the current wind
(Hs = 0.21 U^2 / g, Tp = 2 pi U / (0.877 g), U the wind speed in m/s; Pierson and Moskowitz,
J. Geophys. Res. 69(24), 1964) with a lag of `response_h` hours, combined as Hs = sqrt(swell^2 +
windsea^2); the wind sea's period is that of the developed sea of its height; the peak period is the larger sea's, the mean direction the larger sea's too.

Pure: `SeaStateModel.at(t_s)` for elapsed seconds, noise from a seeded generator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from kinds.wavebuoy.wire import KNOTS_PER_MS, BuoyReport

G = 9.81


@dataclass
class SeaStateModel:
    trade_kn: float = 8.0
    trade_from_deg: float = 120.0
    storm_peak_kn: float = 30.0
    storm_at_h: float = 6.0
    storm_width_h: float = 1.5
    storm_from_deg: float = 230.0
    swell_m: float = 0.8
    swell_tp_s: float = 12.0
    swell_from_deg: float = 200.0
    response_h: float = 2.0
    noise: float = 0.04
    seed: int = 20
    _rng: np.random.Generator = field(init=False, repr=False)
    _windsea_m: float = field(init=False, default=0.0)
    _t: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)
        self._windsea_m = self._developed_m(self.wind_kn(0.0))

    def wind_kn(self, t_s: float) -> float:
        h = t_s / 3600
        bump = math.exp(-0.5 * ((h - self.storm_at_h) / self.storm_width_h) ** 2)
        return self.trade_kn + (self.storm_peak_kn - self.trade_kn) * bump

    def wind_from_deg(self, t_s: float) -> float:
        h = t_s / 3600
        bump = math.exp(-0.5 * ((h - self.storm_at_h) / self.storm_width_h) ** 2)
        x = (1 - bump) * math.cos(math.radians(self.trade_from_deg)) + bump * math.cos(math.radians(self.storm_from_deg))
        y = (1 - bump) * math.sin(math.radians(self.trade_from_deg)) + bump * math.sin(math.radians(self.storm_from_deg))
        return math.degrees(math.atan2(y, x)) % 360

    @staticmethod
    def _developed_m(wind_kn: float) -> float:
        u = wind_kn / KNOTS_PER_MS
        return 0.21 * u * u / G

    def at(self, t_s: float) -> tuple[float, float, float, float, float, float]:
        """(Hs m, Tp s, wave from deg, wind kn, wind from deg, gust kn) at `t_s` seconds in
        (called with increasing times: the wind sea follows the wind with a lag)."""
        if t_s < self._t:
            raise ValueError("times must not decrease")
        wind = self.wind_kn(t_s)
        dt_h = (t_s - self._t) / 3600
        self._t = t_s
        target = self._developed_m(wind)
        self._windsea_m += (target - self._windsea_m) * (1 - math.exp(-dt_h / self.response_h))
        # The period of the wind sea as it is (a decaying sea keeps the period it grew to).
        windsea_tp = 2 * math.pi * math.sqrt(self._windsea_m * G / 0.21) / (0.877 * G)
        n = self._rng.normal(0, self.noise, 4)
        hs = math.hypot(self.swell_m, self._windsea_m) * (1 + n[0])
        swell_dominates = self.swell_m >= self._windsea_m
        tp = (self.swell_tp_s if swell_dominates else max(windsea_tp, 2.0)) * (1 + n[1] / 2)
        wave_from = self.swell_from_deg if swell_dominates else self.wind_from_deg(t_s)
        wind_now = max(0.0, wind * (1 + n[2]))
        gust = wind_now * 1.3 * (1 + abs(n[3]))
        return (max(hs, 0.0), tp, wave_from % 360, wind_now, self.wind_from_deg(t_s), gust)


def reports(buoy: str, start: datetime, every_s: float, count: int, model: SeaStateModel | None = None, first_seq: int = 1) -> list[BuoyReport]:
    """`count` reports of `buoy` every `every_s` seconds of the model's time from `start`."""
    sea = model if model is not None else SeaStateModel()
    out = []
    for k in range(count):
        hs, tp, wdir, wind, ndir, gust = sea.at(k * every_s)
        out.append(BuoyReport(
            buoy, first_seq + k, start + timedelta(seconds=k * every_s), round(hs, 2), round(tp, 1), round(wdir) % 360,
            round(wind, 1), round(ndir, 1) % 360, round(gust, 1),
        ))
    return out
