"""The bounds of a vessel's sailing figures (speed, fuel use, wave and wind limits): what
registering a vessel (`state.register_vessel`), changing its figures (`state.set_sailing_figures`)
and the enrolment commands (`tepi admin vessel add/import/set`) refuse beyond. Pure: no database.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FigureBound:
    """The highest value a vessel's figure may be registered with, in its unit, and why."""

    high: float
    unit: str
    why: str


#: Bounds of a vessel's sailing figures (each from 0): a value beyond is a typing error, and a
#: limit beyond what any boat sails in would let routes and verdicts call anything "go".
FIGURE_BOUNDS: dict[str, FigureBound] = {
    "speed_kn": FigureBound(60.0, "kn", "no small fishing boat cruises faster (a Tepi bound)"),
    "fuel_l_per_h": FigureBound(2000.0, "l/h", "well above what a fishing boat's engines burn (a Tepi bound)"),
    # BMKG's wave categories end with "ekstrem", 6-9 m (core.sea_forecast.WAVE_CATEGORIES).
    "wave_limit_m": FigureBound(9.0, "m", 'BMKG\'s "ekstrem" waves end at 9 m; 0 means the tenant\'s small-boat limit'),
    # Beaufort force 12, hurricane force, is 64 knots and over (the Beaufort wind force scale as
    # the UK Met Office publishes it).
    "wind_limit_kn": FigureBound(64.0, "kn", "hurricane force (Beaufort 12) begins at 64 kn; 0 means the tenant's small-boat limit"),
}


def check_figures(**figures: float) -> None:
    """`ValueError` naming the first figure that is negative, NaN or beyond its `FIGURE_BOUNDS`;
    figures without a bound (gross tonnage) need only be zero or more."""
    for label, value in figures.items():
        bound = FIGURE_BOUNDS.get(label)
        if not value >= 0:  # also NaN
            raise ValueError(f"{label} must be zero or more, not {value!r}")
        if bound is not None and not value <= bound.high:
            raise ValueError(f"{label} {value!r} is beyond {bound.high:g} {bound.unit}: {bound.why}")

