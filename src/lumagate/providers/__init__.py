"""Upstream providers: one module per upstream kind behind one interface (see base.py)."""
