"""Datasets the zoo trains, calibrates and evaluates on (no downloads: Debian packages and the stdlib)."""
