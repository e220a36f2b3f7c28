"""Tepi benchmarks: `python -m bench` (or `make bench`).

Every figure is measured on loopback against a baseline run side by side in the same
invocation (a bare paho subscriber, a raw HTTP POST loop, ThingsBoard IoT Gateway), and
reported as a ratio. Nothing here asserts on time; see `bench/README.md`.
"""
