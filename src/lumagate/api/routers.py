"""Routers built for the app they join: each route built once, its aliases sharing the build.

Two costs of FastAPI's route building (0.165) fell on every start of ``lumagate serve``:

- ``include_router`` keeps an included router as one branch of the app's routes and, on the
  first request that walks past the branch, builds every route of it a second time for the
  inclusion (its dependant, response field and request handler). With the ~270 routes of the
  dialects that was ~0.3 s of CPU on the shared machine, paid by the first request, which is
  the first ``/healthz``: the server answered well after it had been built.
  :func:`add_routes` appends a router's routes to the app's own list as they are instead.
  A router from :func:`app_router` gives its routes the app as their dependency-overrides
  provider (what an inclusion gives them, so ``app.dependency_overrides`` still reaches every
  route); what else an inclusion without arguments would add (tags, dependencies, responses,
  a prefix) is the router's own and already in its routes when they are built.
- Most of those routes are aliases: the reseller dialect serves each operation under 3 channel
  prefixes, 3 generation bases and with or without a trailing slash (18 paths, one handler).
  Building a route analyses its handler (signature, dependencies, parameter and response
  fields: pydantic schemas), the same for every alias. The router from :func:`app_router`
  builds a handler's route once and gives each later path of the same handler, methods and
  options a copy of it with only the path's own parts replaced (its pattern, name and
  operation id). A copy is kept out of the OpenAPI document, so the documented operation is
  always one that was built in full; a path asked to be documented, or whose path parameters
  differ, is built in full as usual.

Its routes are meant for :func:`add_routes`, not for ``include_router``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.datastructures import DefaultPlaceholder
from fastapi.routing import APIRoute
from starlette.routing import compile_path, get_name

# Options that differ between the aliases of one operation and play no part in its handler.
PER_PATH = ("name", "summary", "include_in_schema")


class AliasSharingRouter(APIRouter):
    """An ``APIRouter`` whose repeated operations reuse their first route's build."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._built: dict[Callable[..., Any], list[tuple[dict[str, Any], APIRoute]]] = {}

    def add_api_route(  # the same call: options passed on as given
        self, path: str, endpoint: Callable[..., Any], **options: Any
    ) -> None:
        shared = {k: v for k, v in options.items() if k not in PER_PATH}
        alias = None
        if not options.get("include_in_schema", True) or not self.include_in_schema:
            alias = self._alias_of(path, endpoint, shared, options)
        if alias is not None:
            self.routes.append(alias)
            return
        super().add_api_route(path, endpoint, **options)
        route = self.routes[-1]
        if isinstance(route, APIRoute) and route.endpoint is endpoint:
            self._built.setdefault(endpoint, []).append((shared, route))

    def _alias_of(
        self,
        path: str,
        endpoint: Callable[..., Any],
        shared: dict[str, Any],
        options: dict[str, Any],
    ) -> APIRoute | None:
        """A copy of the route built for ``endpoint`` with the same options, under ``path``."""
        full_path = self.prefix + path
        regex, path_format, convertors = compile_path(full_path)
        for built_with, route in self._built.get(endpoint, ()):
            if built_with != shared or _convertor_types(convertors) != _convertor_types(
                route.param_convertors
            ):
                continue
            alias = copy.copy(route)
            alias.path, alias.path_regex, alias.path_format = full_path, regex, path_format
            alias.param_convertors = convertors
            alias.name = options.get("name") or get_name(endpoint)
            alias.summary = options.get("summary")
            alias.include_in_schema = False
            make_id = route.generate_unique_id_function
            if isinstance(make_id, DefaultPlaceholder):
                make_id = make_id.value
            alias.unique_id = alias.operation_id or make_id(alias)
            return alias
        return None


def _convertor_types(convertors: dict[str, Any]) -> dict[str, type]:
    return {name: type(convertor) for name, convertor in convertors.items()}


def app_router(app: FastAPI, **options: Any) -> APIRouter:
    """An ``APIRouter(**options)`` whose routes are built for ``app``, aliases shared."""
    return AliasSharingRouter(dependency_overrides_provider=app, **options)


def add_routes(app: FastAPI, router: APIRouter) -> None:
    """Append ``router``'s routes to ``app``'s, in order; ``router`` is from :func:`app_router`."""
    if router.dependency_overrides_provider is not app:
        raise ValueError("add_routes takes a router built for this app (app_router(app))")
    app.router.routes.extend(router.routes)
