"""Benchmarks: ``python -m bench`` runs them all and prints a short table (not timed tests)."""
