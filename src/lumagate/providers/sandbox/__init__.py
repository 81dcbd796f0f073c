"""Offline sandbox provider: renders playable MP4s locally, so no credentials are needed."""
