"""Signing in to the console over plain HTTP (httpx), for the console's integration tests."""

from __future__ import annotations

import re

import httpx

ADMIN_KEY = "sk-lg-admin-console-test-9f8e7d6c5b4a"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def sign_in_token(http: httpx.Client) -> str:
    match = CSRF.search(http.get("/console/sign-in").text)
    assert match is not None
    return match.group(1)


def sign_in(http: httpx.Client, key: str) -> httpx.Response:
    token = sign_in_token(http)
    return http.post("/console/sign-in", data={"csrf": token, "admin_key": key})


def csrf_of(http: httpx.Client, path: str = "/console/keys") -> str:
    """The session's CSRF token, read from a signed-in page."""
    match = CSRF.search(http.get(path).text)
    assert match is not None
    return match.group(1)
