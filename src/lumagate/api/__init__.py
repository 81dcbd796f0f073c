"""The HTTP API: one module per dialect, each a thin translation over the service layer."""
