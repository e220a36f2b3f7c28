"""The wave buoy's gateway side (shore gateway): `KIND` for the gateway's registry."""

from kinds.wavebuoy.edge.kind import KIND, WavebuoyKind
from kinds.wavebuoy.edge.processor import BuoyProcessor
from kinds.wavebuoy.edge.reading import BuoyReading

__all__ = ["KIND", "BuoyProcessor", "BuoyReading", "WavebuoyKind"]
