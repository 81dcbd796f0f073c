"""Watching a running gateway: Prometheus metrics (per replica and from the database)."""
