"""Secrets: hashing API keys, encrypting credentials at rest, constant-time checks."""
