"""Measuring models: `intedge bench` against other runtimes (bench.py, with the runtimes in peers.py) and
wall-clock latency (latency.py). Memory, energy and remote targets (adb, ssh) come with later issues."""
