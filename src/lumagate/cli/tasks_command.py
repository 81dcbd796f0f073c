"""``lumagate tasks list|show``: an operator's view of every tenant's tasks, over ``/admin``.

Talks to a running gateway with the admin key (``--admin-key``, ``LUMAGATE_ADMIN_KEY``, or
the ``admin.key`` file of the local data dir). Only Typer at module level, so start-up stays
fast; the client and Rich load when a command runs.
"""

from __future__ import annotations

from typing import Annotated

import typer

from lumagate.cli.remote import GatewayUrl, exit_on_client_error

app = typer.Typer(
    help="Tasks of every tenant on a running gateway (admin key).", no_args_is_help=True
)

AdminKeyOption = Annotated[
    str,
    typer.Option(
        "--admin-key",
        envvar="LUMAGATE_ADMIN_KEY",
        help="The admin key; or LUMAGATE_ADMIN_KEY, or <data dir>/admin.key.",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@app.command("list")
def list_tasks(
    state: Annotated[
        str | None, typer.Option(help="queued, submitting, submitted, processing, completed...")
    ] = None,
    key: Annotated[str | None, typer.Option(help="Only this tenant key (name or prefix).")] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    offset: Annotated[int, typer.Option(help="Skip this many.")] = 0,
    as_json: JsonOption = False,
    url: GatewayUrl = "http://127.0.0.1:8000",
    admin_key: AdminKeyOption = "",
) -> None:
    """List tasks of every tenant, newest first."""
    from lumagate.cli.tasks_view import print_page
    from lumagate.client.admin import AdminClient

    with exit_on_client_error(), AdminClient(url, _admin_key(admin_key)) as client:
        page = client.list_tasks(state=state, key=key, offset=offset, limit=limit)
    print_page(page, as_json=as_json)


@app.command("show")
def show_task(
    task_id: Annotated[str, typer.Argument(help="The task id.")],
    as_json: JsonOption = False,
    url: GatewayUrl = "http://127.0.0.1:8000",
    admin_key: AdminKeyOption = "",
) -> None:
    """Show one task: state, account, upstream id, request, ledger."""
    from lumagate.cli.tasks_view import print_task
    from lumagate.client.admin import AdminClient

    with exit_on_client_error(), AdminClient(url, _admin_key(admin_key)) as client:
        task = client.get_task(task_id)
    print_task(task, as_json=as_json)


def _admin_key(given: str) -> str:
    if given:
        return given
    from lumagate.cli.remote import EXIT_AUTH, fail
    from lumagate.security.admin_key import ADMIN_KEY_FILE
    from lumagate.settings import load_settings

    path = load_settings().data_dir / ADMIN_KEY_FILE
    try:
        return path.read_text(encoding="ascii").strip()
    except OSError:
        raise fail(
            f"no admin key: pass --admin-key, set LUMAGATE_ADMIN_KEY or run where {path} exists",
            EXIT_AUTH,
        ) from None
