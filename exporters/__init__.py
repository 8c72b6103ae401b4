"""Exports of intedge graphs to other runtimes' formats."""
