"""The ``lumagate`` command line, run as a user runs it (the installed console script).

Each behaviour of the process runs once as a real subprocess of the console script: the root
``--help``, a key printed last on stdout, usage and domain errors with a non-zero exit code and
no traceback on stderr, ``db upgrade`` creating the database. The commands that follow up on
those (a second key, listing, revoking against a running server, an idempotent upgrade) and the
``--help`` of every command run in-process (Typer's runner over the same app object and the
same ``LUMAGATE_*`` settings): the same code without an interpreter start-up each (~1 s of CPU).
The ``keys`` tests run on SQLite and on PostgreSQL (the module's ``backend``): the commands
write the key store the server reads.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from lumagate.cli.main import app
from tests.support.acceptance import client, start_server
from tests.support.databases import ServerDatabase
from tests.support.servers import cli_in_process, server_env

pytestmark = pytest.mark.slow

LUMAGATE = str(Path(sys.executable).parent / "lumagate")
EXPECTED_COMMANDS = {
    "",
    "serve",
    "keys",
    "keys create",
    "keys list",
    "keys revoke",
    "db",
    "db upgrade",
}
BOX = re.compile(r"[│╭╮╰╯─┃━┏┓┗┛]")


def _env(data_dir: Path, **settings: str) -> dict[str, str]:
    env = server_env(data_dir, **settings)
    env.update(COLUMNS="200", NO_COLOR="1", TERM="dumb")
    return env


def _run(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [LUMAGATE, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if check:
        assert result.returncode == 0, f"lumagate {' '.join(args)}: {result}"
    return result


def _run_in_process(
    env: dict[str, str], *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    result = cli_in_process(env, *args)
    if check:
        assert result.returncode == 0, f"lumagate {' '.join(args)}: {result}"
    return result


def _flat(text: str) -> str:
    """Help text without Rich's box drawing and line wrapping."""
    return " ".join(BOX.sub(" ", text).split())


def _subcommands(command: Any) -> dict[str, Any]:
    """The subcommands of a (Typer's own click) group; {} for a plain command."""
    return dict(getattr(command, "commands", None) or {})


def _commands() -> dict[str, Any]:
    """Every command of the CLI by its path ("" is the root), from the Typer app itself."""
    root = typer.main.get_command(app)
    found: dict[str, Any] = {}

    def walk(path: str, command: Any) -> None:
        found[path] = command
        for name, sub in _subcommands(command).items():
            walk(f"{path} {name}".strip(), sub)

    walk("", root)
    return found


COMMANDS = _commands()


def test_every_expected_command_exists() -> None:
    assert set(COMMANDS) >= EXPECTED_COMMANDS


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=lambda path: path or "lumagate")
def test_help_of_every_command(path: str, tmp_path: Path) -> None:
    """``--help`` of every command, found by walking the app (so new commands are covered)."""
    env = {"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb", "LUMAGATE_DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(app, [*path.split(), "--help"], env=env, prog_name="lumagate")
    assert result.exit_code == 0, result.output
    text = _flat(result.output)
    assert " ".join(f"Usage: lumagate {path}".split()) in text, result.output
    command = COMMANDS[path]
    summary = (command.help or "").strip().splitlines()[0] if command.help else ""
    assert summary, f"lumagate {path} has no help text"
    assert _flat(summary) in text, f"{summary!r} not in the help of {path!r}:\n{result.output}"
    for param in command.params:
        for option in getattr(param, "opts", []):
            if option.startswith("--"):
                assert option in text, f"{option} missing from the help of {path!r}"
    for name in _subcommands(command):
        assert name in text, f"subcommand {name} missing from the help of {path!r}"
    assert not any(tmp_path.iterdir()), "--help must not touch the data dir"


def test_root_help_names_the_first_steps() -> None:
    text = _flat(_run(_env(Path("/nonexistent-lumagate")), "--help").stdout)
    for name in ("serve", "keys", "db", "LUMAGATE_DATA_DIR"):
        assert name in text


def test_keys_create_prints_the_key_last_and_list_never_shows_it(
    tmp_path: Path, server_database: ServerDatabase
) -> None:
    env = _env(tmp_path / "data", **server_database())
    created = _run(env, "keys", "create", "--name", "alice")
    key = created.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"sk-lg-[A-Za-z0-9_-]{20,}", key), created.stdout
    assert "alice" in created.stdout + created.stderr
    second = _run_in_process(env, "keys", "create", "--name", "bob", "--credits", "5")
    other = second.stdout.strip().splitlines()[-1]
    assert other != key

    listed = _run_in_process(env, "keys", "list")
    output = listed.stdout + listed.stderr
    assert "alice" in output and "bob" in output
    assert key[:10] in output  # the display prefix identifies it...
    assert key not in output and other not in output  # ...the key itself is never shown
    assert key[10:30] not in output


def test_keys_rejects_bad_input(tmp_path: Path, server_database: ServerDatabase) -> None:
    env = _env(tmp_path / "data", **server_database())
    missing_name = _run(env, "keys", "create", check=False)
    assert missing_name.returncode != 0
    assert "--name" in _flat(missing_name.stderr)
    bad_channel = _run_in_process(
        env, "keys", "create", "--name", "x", "--channels", "gold", check=False
    )
    assert bad_channel.returncode != 0
    assert "Traceback" not in bad_channel.stderr
    unknown = _run(env, "keys", "revoke", "no-such-key", check=False)
    assert unknown.returncode != 0
    assert "no-such-key" in unknown.stdout + unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_keys_revoke_makes_the_key_answer_401(
    tmp_path: Path, server_database: ServerDatabase
) -> None:
    database = server_database()
    server = start_server(tmp_path / "data", **database)
    try:
        env = _env(server.data_dir, **database)
        keys = {
            name: _run_in_process(env, "keys", "create", "--name", name)
            .stdout.strip()
            .splitlines()[-1]
            for name in ("first", "second")
        }
        with client(server.base_url) as http:

            def status(key: str) -> int:
                headers = {"Authorization": f"Bearer {key}"}
                return http.get("/luma/users/me", headers=headers).status_code

            assert status(keys["first"]) == status(keys["second"]) == 200
            _run_in_process(env, "keys", "revoke", "first")  # by name
            assert status(keys["first"]) == 401  # at once, on the running server
            assert status(keys["second"]) == 200
            response = http.post(
                "/luma/generations",
                json={"user_prompt": "x"},
                headers={"Authorization": f"Bearer {keys['first']}"},
            )
            assert response.status_code == 401
            assert response.json()["error"]["type"] == "authentication_error"

            prefix = keys["second"][:10]  # the prefix `keys list` shows
            _run_in_process(env, "keys", "revoke", prefix)
            assert status(keys["second"]) == 401

        listed = _flat(_run_in_process(env, "keys", "list").stdout)
        assert listed.count("revoked") == 2
    finally:
        server.stop()


def test_db_upgrade_on_a_fresh_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh" / "data"
    env = _env(data_dir)
    first = _run(env, "db", "upgrade")
    revision = re.search(r"revision (\S+)", _flat(first.stdout + first.stderr))
    assert revision and revision.group(1) != "None", first
    assert (data_dir / "lumagate.db").is_file()
    again = _run_in_process(env, "db", "upgrade")  # idempotent
    assert revision.group(0) in _flat(again.stdout + again.stderr)
    created = _run_in_process(env, "keys", "create", "--name", "after-upgrade")
    assert created.stdout.strip().splitlines()[-1].startswith("sk-lg-")
