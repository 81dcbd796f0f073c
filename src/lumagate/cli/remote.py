"""Shared by the commands that talk to a running gateway over HTTP (``generate``, ``tasks``):
the ``--url`` option and turning client errors into one line and an exit code.

Light on purpose (Typer only at module level): these commands are registered at start-up.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

GatewayUrl = Annotated[
    str,
    typer.Option(
        "--url", envvar="LUMAGATE_URL", help="Base URL of the running gateway; or LUMAGATE_URL."
    ),
]

EXIT_FAILED = 1
EXIT_AUTH = 3
EXIT_UNREACHABLE = 4
EXIT_TIMEOUT = 5


def fail(message: str, code: int) -> typer.Exit:
    """Print ``message`` as one line on stderr; the caller raises what this returns."""
    print(f"lumagate: {' '.join(message.split())}", file=sys.stderr)
    return typer.Exit(code)


@contextmanager
def exit_on_client_error() -> Iterator[None]:
    """Any :class:`~lumagate.client.LumagateError` becomes one clear line and an exit code."""
    from lumagate.client import (
        AuthenticationError,
        GatewayUnreachableError,
        LumagateError,
        WaitTimeoutError,
    )

    try:
        yield
    except AuthenticationError as error:
        raise fail(f"the gateway refused the key ({error.message})", EXIT_AUTH) from None
    except GatewayUnreachableError as error:
        raise fail(error.message, EXIT_UNREACHABLE) from None
    except WaitTimeoutError as error:
        raise fail(error.message, EXIT_TIMEOUT) from None
    except LumagateError as error:
        status = f" (HTTP {error.status})" if error.status else ""
        raise fail(f"{error.message}{status}", EXIT_FAILED) from None
    except ValueError as error:  # a malformed URL or an empty key, found before any request
        raise fail(str(error), EXIT_FAILED) from None
