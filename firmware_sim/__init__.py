"""Field-device simulator: AWLR river level recorders that behave like the real ones.

Why it exists: the gateway, ingest and API need a flood to happen on demand, with the
faults real loggers have (noise, spikes, dropouts, stuck sensors, line noise), over the same
transports (an RS-232 line, an MQTT connection) and the same wire format the gateway decodes.

Layout, from pure to effectful:

- `hydrograph`: the true river level at each station (numpy, no clocks, no I/O);
- `faults`: what the sensor and the link do to it (numpy with an explicit RNG);
- `clock`: simulated time that starts in the past and catches up with the real clock;
- `recorder`: one logger's firmware: sequence numbers, frames, bytes for its transport;
- `transports`: `PtySerialLink` and `MqttLink`, which only move bytes;
- `runner`: `Simulator` and `run_simulator`, the thread that ties them together.
"""
