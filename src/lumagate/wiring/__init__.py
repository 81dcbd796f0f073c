"""The composition root, in parts: stores, services and the engine, each built from settings.

``lumagate.gateway.Gateway`` puts all three together for the server (and tests); a CLI
command builds only the part it needs (``lumagate keys create``: :func:`stores.open_stores`
and a ``KeyAdmin``), so it imports neither the engine, the providers nor FastAPI.
"""
