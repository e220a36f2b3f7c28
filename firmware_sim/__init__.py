"""Field-device simulation that every kind shares: simulated time and the links devices talk on.

Why it exists: the gateway, ingest and API need floods, fishing trips and office days to happen
on demand, over the same transports (an RS-232 line, an MQTT connection) and the same wire
formats the gateway decodes. What a device of a kind says lives with its kind
(`kinds/<kind>/sim/`: the river's hydrograph, faults and recorder; the boats' voyages,
echograms and NMEA stream); here is what they have in common:

- `clock`: simulated time that starts in the past and catches up with the real clock;
- `transports`: `PtySerialLink` and `MqttLink`, which only move bytes;
- `errors`: the simulator's exception base.
"""
