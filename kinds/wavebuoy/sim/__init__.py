"""The buoy simulator: a wind-driven sea with a storm passing (`sea`), reported in the kind's
wire format (`wire.encode_report`) over MQTT or as serial lines (`runner`)."""
