"""Alembic migration scripts for the lumagate schema."""
