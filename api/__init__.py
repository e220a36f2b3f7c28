"""The HTTP API of Tepi (FastAPI): stations, level history, alerts, health and metrics."""
