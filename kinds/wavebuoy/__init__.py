"""Wave/weather buoys moored off a tenant's coast: significant wave height, peak period and mean
wave direction from the buoy's own wave processing, wind (speed, direction, gust) from its
anemometer, reported over the buoy's cellular modem (MQTT) or a cable (serial) to the shore
gateway.

Sides: `wire` (the one declared wire format: NMEA 0183 `$WIMDA`/`$WIMWV` for wind plus the
proprietary `$PTEPW` for waves), `items` (what goes uplink), `config` (the `buoys:` section),
`state` (latest observation per buoy, Alembic branch `wavebuoy`), `edge/` (decode, QARTOD QC,
windowed summaries, small-boat limit events), `ingest/` (`HANDLER`), `api/` (`ROUTER`), `sim/`
(a wind-driven sea with a storm passage). See README.md.
"""
