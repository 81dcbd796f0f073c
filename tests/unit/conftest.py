"""Unit-test fixtures: ``stores``, every store over a fresh migrated SQLite file."""

from tests.support.stores import stores

__all__ = ["stores"]
