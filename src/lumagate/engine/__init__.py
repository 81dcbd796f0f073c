"""The engine: background loops that carry tasks to a terminal state, resumed from the store."""
