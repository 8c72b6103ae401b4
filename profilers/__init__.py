"""Latency today (latency.py); memory, energy and remote targets come with later issues."""
