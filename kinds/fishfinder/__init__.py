"""Fish finders on small fishing boats: NMEA 0183 positions, depths and water temperature, echogram
pings in which the gateway on board finds fish schools, and the SOS button.

Sides: `wire` (the one declared wire format, for simulator and decoder), `values` (what the
instruments say), `edge/` (on board: school detection, track thinning, summaries), `sim/` (boats
on a real coast, their instruments and the serial stream they send).
"""
