"""Edge gateway: reads field devices, computes at the edge, stores and forwards to ingest."""
