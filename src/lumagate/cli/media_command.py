"""``lumagate media gc``: remove media older than the retention, as the background sweep does.

The retention is ``LUMAGATE_MEDIA_RETENTION_DAYS`` or ``--retention-days``; without either the
command refuses (media are kept for ever by default). ``--dry-run`` lists what would go and
changes nothing. The sweep itself is :mod:`lumagate.engine.retention` (docs/media.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from lumagate.cli.common import console, run_with_stores

if TYPE_CHECKING:
    from lumagate.engine.retention import RetentionReport
    from lumagate.wiring.stores import Stores

app = typer.Typer(help="The media store: retention.", no_args_is_help=True)


@app.command("gc")
def gc(
    retention_days: Annotated[
        float | None,
        typer.Option(
            help="Remove media older than this many days (default: LUMAGATE_MEDIA_RETENTION_DAYS)."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be removed; remove nothing.")
    ] = False,
) -> None:
    """Remove media older than the retention; tasks that lose their media say so."""
    from lumagate.settings import load_settings
    from lumagate.wiring.media import media_retention

    settings = load_settings()
    days = retention_days if retention_days is not None else settings.media_retention_days
    if days is None or days <= 0:
        raise typer.BadParameter(
            "no retention: set LUMAGATE_MEDIA_RETENTION_DAYS or pass a positive --retention-days "
            "(media are kept for ever by default)",
            param_hint="--retention-days",
        )

    async def action(stores: Stores) -> RetentionReport:
        return await media_retention(stores, days).sweep(dry_run=dry_run)

    report = run_with_stores(action, settings)
    verb = "would remove" if dry_run else "removed"
    for key in report.removed_keys:
        typer.echo(f"{verb} {key}")
    for task_id in report.tasks:
        typer.echo(f"task {task_id}: media {verb}")
    console.print(
        f"{verb} {len(report.removed_keys)} files ({report.removed_bytes} bytes) older than "
        f"{report.cutoff.isoformat()}, kept {report.kept_objects}; "
        f"{len(report.tasks)} tasks {'would be' if dry_run else 'were'} marked"
    )
