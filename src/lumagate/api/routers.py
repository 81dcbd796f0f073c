"""Routers built for the app they join, their routes added to the app's own list, built once.

FastAPI's ``include_router`` (0.165) keeps an included router as one branch of the app's routes
and, on the first request that walks past the branch, builds every route of it a second time
for the inclusion (its dependant, response field and request handler). With the ~270 routes of
the dialects that second build was ~0.3 s of CPU on the shared machine, paid by the first
request, which is the first ``/healthz``: the server answered well after it had been built.

A router from :func:`app_router` gives its routes the app as their dependency-overrides
provider (what an inclusion gives them, so ``app.dependency_overrides`` still reaches every
route), and :func:`add_routes` appends its routes to the app's router as they are: each route
is built once, in ``create_app``, and a request matches it without passing through a branch.
Everything else an inclusion without arguments would add (tags, dependencies, responses,
prefixes) is the router's own and already in its routes when they are built.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI


def app_router(app: FastAPI, **options: Any) -> APIRouter:
    """An ``APIRouter(**options)`` whose routes are built for ``app``."""
    return APIRouter(dependency_overrides_provider=app, **options)


def add_routes(app: FastAPI, router: APIRouter) -> None:
    """Append ``router``'s routes to ``app``'s, in order; ``router`` is from :func:`app_router`."""
    if router.dependency_overrides_provider is not app:
        raise ValueError("add_routes takes a router built for this app (app_router(app))")
    app.router.routes.extend(router.routes)
