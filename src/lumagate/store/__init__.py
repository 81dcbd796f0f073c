"""The store: the only code that knows SQL. One code path for SQLite and PostgreSQL."""
