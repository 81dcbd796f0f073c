"""The console's security against a real ``lumagate serve``: every form refuses a missing or
wrong CSRF token (and changes nothing), no page answers without a session, the session cookie
is HttpOnly, SameSite and expiring, a tenant key cannot sign in, wrong keys are rate-limited,
and a signed-out session stays refused.

The forms are found by reading the signed-in pages, and every console POST route of the app
must be among them, so a new form cannot be added without this test covering it.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest

from lumagate.api.app import create_app
from lumagate.settings import Settings
from tests.support.console import ADMIN_KEY, csrf_of, sign_in, sign_in_token
from tests.support.servers import GatewayServer
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow


PAGES = [
    "/console",
    "/console/accounts",
    "/console/keys",
    "/console/tasks",
    "/console/usage",
    "/console/playground",
]


class Forms(HTMLParser):
    """Every ``<form method=post>`` of a page: its action and its hidden fields."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []
        self._open = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and values.get("method", "").lower() == "post":
            self.forms.append((values["action"], {}))
            self._open = True
        elif tag == "input" and self._open and values.get("type") == "hidden":
            self.forms[-1][1][values.get("name", "")] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = False


def forms_of(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = Forms()
    parser.feed(html)
    return parser.forms


@pytest.fixture
def admin(server: GatewayServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        assert sign_in(http, ADMIN_KEY).status_code == 303
        yield http


def test_no_page_answers_without_a_session(server: GatewayServer) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        for path in [*PAGES, "/console/usage.csv", "/console/tasks/x", "/console/tasks/x/status"]:
            page = http.get(path)
            assert page.status_code == 303, path
            assert page.headers["location"].startswith("/console/sign-in?next=")
            refused = http.get(path, headers={"Accept": "application/json"})
            assert refused.status_code == 401, path
        assert http.get("/").headers["location"] == "/console"
    with httpx.Client(
        base_url=server.base_url, timeout=30, cookies={"lg_console": "gAAAAABforged"}
    ) as forged:
        assert forged.get("/console").status_code == 303


@contextlib.contextmanager
def silent_upstream() -> Iterator[str]:
    """A loopback address that accepts connections and never answers: a create sent there
    stays in flight (no failure is recorded while the test runs)."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                held.append(listener.accept()[0])

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()
        for connection in held:
            connection.close()


def test_every_console_form_refuses_a_missing_or_wrong_csrf_token(
    server: GatewayServer, admin: httpx.Client, tmp_path: Path
) -> None:
    with silent_upstream() as relay_url:
        _every_form_refuses(server, admin, tmp_path, relay_url)


def _every_form_refuses(
    server: GatewayServer, admin: httpx.Client, tmp_path: Path, relay_url: str
) -> None:
    created = admin.post(
        "/console/keys",
        data={"csrf": csrf_of(admin), "name": "victim", "credits": "100"},
    )
    assert created.status_code == 200
    added = admin.post(
        "/console/accounts",
        data={
            "csrf": csrf_of(admin),
            "kind": "relay",
            "name": "relay-x",
            "secret": "s3cret",
            "base_url": relay_url,
            "max_concurrency": "1",
            "channels": "pro",
        },
    )
    assert added.status_code == 303 and "flash.account_added" in added.headers["location"]
    # A pro task goes to the relay, which never answers: unfinished, its page has a cancel form.
    task_page = f"/console/tasks/{_unfinished_task(server)}"
    relay = re.search(r'action="(/console/accounts/[^/"]+)/remove"', admin.get(PAGES[1]).text)
    assert relay is not None  # disabled, so its row offers "enable" too
    disabled = admin.post(relay.group(1) + "/disable", data={"csrf": csrf_of(admin)})
    assert disabled.status_code == 303 and "flash.account_disabled" in disabled.headers["location"]
    before = {path: admin.get(path).text for path in ("/console/keys", "/console/accounts")}

    found: dict[str, dict[str, str]] = {}
    for path in [*PAGES, task_page]:
        for action, hidden in forms_of(admin.get(path).text):
            assert hidden.get("csrf"), f"the form {action} on {path} has no CSRF token"
            found[action] = hidden
    assert any(a.endswith("/revoke") for a in found) and any(a.endswith("/remove") for a in found)
    assert task_page + "/cancel" in found

    for action, hidden in found.items():
        fields = {k: v for k, v in hidden.items() if k != "csrf"}
        fields.update(name="x", amount="5", secret="new", kind="relay", prompt="p")
        missing = admin.post(action, data=fields, follow_redirects=False)
        assert missing.status_code == 403, action
        wrong = admin.post(action, data={**fields, "csrf": "A" * 32}, follow_redirects=False)
        assert wrong.status_code == 403, action

    after = {path: admin.get(path).text for path in ("/console/keys", "/console/accounts")}
    assert _rows(after) == _rows(before), "a refused form changed something"
    assert 'id="cancel-task"' in admin.get(task_page).text, "a refused cancel cancelled"
    assert _covers_every_post_route(found, tmp_path / "routes")


def _unfinished_task(server: GatewayServer) -> str:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
        made = http.post("/admin/keys", json={"name": "canceller"}, headers=admin)
        assert made.status_code == 201, made.text
        tenant = {"Authorization": f"Bearer {made.json()['key']}"}
        task = http.post("/pro/luma/generations", json={"user_prompt": "p"}, headers=tenant)
        assert task.status_code == 200, task.text
        task_id = str(task.json()["id"])
        wait_until(
            lambda: (
                http.get(f"/admin/tasks/{task_id}", headers=admin).json()["state"] == "submitting"
            ),
            "the task's create in flight",
        )
        return task_id


def _rows(pages: dict[str, str]) -> list[str]:
    return [
        re.sub(r'name="csrf" value="[^"]+"', "", re.sub(r"\s+", " ", t)) for t in pages.values()
    ]


def _routes(routes: Iterable[Any]) -> Iterator[Any]:
    """Every route of the app, into included routers."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        yield from _routes(inner.routes) if inner is not None else [route]


def _covers_every_post_route(found: dict[str, dict[str, str]], data_dir: Path) -> bool:
    app = create_app(Settings(admin_key=ADMIN_KEY, data_dir=data_dir), start_engine=False)
    templates = {
        route.path
        for route in _routes(app.routes)
        if getattr(route, "path", "").startswith("/console")
        and "POST" in (getattr(route, "methods", None) or ())
    }
    assert "/console/keys/{key_id}/revoke" in templates  # the walk found the console's routes
    patterns = {t: re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", t) + "$") for t in templates}
    uncovered = {t for t, p in patterns.items() if not any(p.match(a) for a in found)}
    assert uncovered == {"/console/sign-in"}, f"POST routes with no form seen: {uncovered}"
    return True


def test_the_sign_in_form_itself_needs_its_token(server: GatewayServer) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        sign_in_token(http)
        refused = http.post("/console/sign-in", data={"admin_key": ADMIN_KEY})
        assert refused.status_code == 403 and "lg_console" not in refused.cookies
        wrong = http.post("/console/sign-in", data={"admin_key": ADMIN_KEY, "csrf": "nope"})
        assert wrong.status_code == 403 and "lg_console" not in wrong.cookies


def test_the_session_cookie_is_httponly_samesite_expiring_and_not_the_key(
    server: GatewayServer,
) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        signed_in = sign_in(http, ADMIN_KEY)
        assert signed_in.status_code == 303
        header = next(
            h for h in signed_in.headers.get_list("set-cookie") if h.startswith("lg_console=")
        )
        attributes = {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}
        assert {"httponly", "samesite", "max-age", "path"} <= attributes
        assert "samesite=strict" in header.lower()
        assert ADMIN_KEY not in header and ADMIN_KEY.split("-")[-1] not in header
        for path in PAGES:
            assert ADMIN_KEY not in http.get(path).text


def test_a_tenant_key_cannot_sign_in(server: GatewayServer) -> None:
    tenant_key = server.create_key("tenant-sec")
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        assert http.get(
            "/luma/users/me", headers={"Authorization": f"Bearer {tenant_key}"}
        ).is_success
        refused = sign_in(http, tenant_key)
        assert refused.status_code == 401
        assert "lg_console" not in refused.cookies
        assert tenant_key not in refused.text
        assert http.get("/console").status_code == 303


def test_wrong_keys_are_rate_limited_then_even_the_right_key_waits(server: GatewayServer) -> None:
    transport = httpx.HTTPTransport(local_address="127.0.0.7")  # a client address of its own
    with httpx.Client(base_url=server.base_url, timeout=30, transport=transport) as http:
        for _ in range(3):
            assert sign_in(http, "sk-lg-admin-guess").status_code == 401
        limited = sign_in(http, ADMIN_KEY)
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert "lg_console" not in limited.cookies
    with httpx.Client(base_url=server.base_url, timeout=30) as other:  # other clients still can
        assert sign_in(other, ADMIN_KEY).status_code == 303


def test_a_signed_out_session_is_refused_even_if_replayed(server: GatewayServer) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        assert sign_in(http, ADMIN_KEY).status_code == 303
        stolen = http.cookies["lg_console"]
        assert http.get("/console").status_code == 200
        out = http.post("/console/sign-out", data={"csrf": csrf_of(http)})
        assert out.status_code == 303
        assert http.get("/console").status_code == 303
    with httpx.Client(
        base_url=server.base_url, timeout=30, cookies={"lg_console": stolen}
    ) as replay:
        assert replay.get("/console").status_code == 303
        assert (
            replay.get("/console/keys", headers={"Accept": "application/json"}).status_code == 401
        )
