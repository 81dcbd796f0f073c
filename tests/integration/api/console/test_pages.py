"""Console pages over HTTP against a real server: what the browser test does not walk through
(limits, revoke, the account life cycle, credential tests, filters, CSV, languages, redirects)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from tests.support.console import ADMIN_KEY, csrf_of, sign_in
from tests.support.servers import GatewayServer

pytestmark = pytest.mark.slow


@pytest.fixture
def admin(server: GatewayServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        assert sign_in(http, ADMIN_KEY).status_code == 303
        yield http


def _key_id(http: httpx.Client, name: str) -> str:
    row = re.search(
        rf'<tr data-key="{re.escape(name)}">.*?action="/console/keys/([^/"]+)/',
        http.get("/console/keys").text,
        re.S,
    )
    assert row is not None
    return row.group(1)


def _account_row(http: httpx.Client, name: str) -> str:
    page = http.get("/console/accounts").text
    match = re.search(rf'<tr data-account="{re.escape(name)}">(.*?)</tr>', page, re.S)
    assert match is not None
    return match.group(1)


def test_key_limits_top_up_and_revoke(server: GatewayServer, admin: httpx.Client) -> None:
    created = admin.post(
        "/console/keys", data={"csrf": csrf_of(admin), "name": "=cmd|calc", "credits": "10"}
    )
    assert created.status_code == 200 and created.headers["cache-control"] == "no-store"
    plaintext = re.search(r'id="new-key"[^>]*>([^<]+)<', created.text)
    assert plaintext is not None
    key_id = _key_id(admin, "=cmd|calc")
    changed = admin.post(
        f"/console/keys/{key_id}/limits",
        data={"csrf": csrf_of(admin), "channels": ["vip"], "rpm": "7", "max_running": ""},
    )
    assert "flash.limits_changed" in changed.headers["location"]
    me = httpx.get(
        server.base_url + "/luma/users/me",
        headers={"Authorization": f"Bearer {plaintext.group(1)}"},
        timeout=30,
    ).json()
    assert me["channels"] == ["vip"]
    refused = admin.post(
        f"/console/keys/{key_id}/limits",
        data={"csrf": csrf_of(admin), "channels": ["vip"], "rpm": "0"},
    )
    assert "err=error.at_least" in refused.headers["location"]
    bad_amount = admin.post(
        f"/console/keys/{key_id}/top-up", data={"csrf": csrf_of(admin), "amount": "ten"}
    )
    assert "err=error.not_integer" in bad_amount.headers["location"]
    topped = admin.post(
        f"/console/keys/{key_id}/top-up", data={"csrf": csrf_of(admin), "amount": "5"}
    )
    assert (
        "flash.topped_up" in topped.headers["location"]
        and "detail=15" in topped.headers["location"]
    )
    csv = admin.get("/console/usage.csv").text
    assert "=cmd" not in csv.replace("'=cmd", "")  # a name never becomes a formula
    revoked = admin.post(f"/console/keys/{key_id}/revoke", data={"csrf": csrf_of(admin)})
    assert "flash.key_revoked" in revoked.headers["location"]
    assert "key_state.revoked" not in admin.get("/console/keys").text
    assert re.search(r'data-key="=cmd\|calc">.*?revoked', admin.get("/console/keys").text, re.S)


def test_an_account_from_add_to_remove(admin: httpx.Client) -> None:
    form = {
        "csrf": csrf_of(admin),
        "kind": "luma-web",
        "name": "web-console",
        "secret": "access_token=opaque; other=1",
        "base_url": "http://127.0.0.1:9",  # nothing listens: the test call must fail
        "max_concurrency": "1",
        "channels": ["pro"],
    }
    assert "flash.account_added" in admin.post("/console/accounts", data=form).headers["location"]
    again = admin.post("/console/accounts", data={**form, "csrf": csrf_of(admin)})
    assert "err=error.name_taken" in again.headers["location"]
    assert "opaque" not in admin.get("/console/accounts").text
    account_id = re.search(
        r'action="/console/accounts/([^/"]+)/remove"', _account_row(admin, "web-console")
    )
    assert account_id is not None
    base = f"/console/accounts/{account_id.group(1)}"
    tested = admin.post(base + "/test", data={"csrf": csrf_of(admin)}).headers["location"]
    assert "err=error.test_failed" in tested
    assert 'data-state="enabled"' in _account_row(admin, "web-console")
    admin.post(base + "/disable", data={"csrf": csrf_of(admin), "reason": "maintenance"})
    assert 'data-state="disabled"' in _account_row(admin, "web-console")
    renewed = admin.post(
        base + "/renew", data={"csrf": csrf_of(admin), "secret": "access_token=new"}
    )
    assert "flash.account_renewed" in renewed.headers["location"]
    assert 'data-state="enabled"' in _account_row(admin, "web-console")
    empty = admin.post(base + "/renew", data={"csrf": csrf_of(admin), "secret": ""})
    assert "err=error.secret_required" in empty.headers["location"]
    removed = admin.post(base + "/remove", data={"csrf": csrf_of(admin)})
    assert "flash.account_removed" in removed.headers["location"]
    assert 'data-account="web-console"' not in admin.get("/console/accounts").text
    gone = admin.post(base + "/enable", data={"csrf": csrf_of(admin)})
    assert "err=error.account_not_found" in gone.headers["location"]


def test_the_sandbox_cannot_be_tested_and_unknown_tasks_are_404(admin: httpx.Client) -> None:
    sandbox = re.search(
        r'action="/console/accounts/([^/"]+)/disable"', _account_row(admin, "sandbox")
    )
    assert sandbox is not None
    untestable = admin.post(
        f"/console/accounts/{sandbox.group(1)}/test", data={"csrf": csrf_of(admin)}
    )
    assert "err=error.untestable" in untestable.headers["location"]
    assert admin.get("/console/tasks/not-a-uuid").status_code == 404
    missing = admin.get("/console/tasks/00000000-0000-4000-8000-000000000000/status")
    assert missing.status_code == 404


def test_filters_that_match_nothing_and_bad_filter_values(admin: httpx.Client) -> None:
    for query in ("key=no-such-key", "account=no-such-account", "from=2000-01-01&to=2000-01-02"):
        page = admin.get("/console/tasks?" + query)
        assert page.status_code == 200 and 'id="task-total"' in page.text
        assert "<tr data-task=" not in page.text
    assert admin.get("/console/tasks?state=bogus&page=x&from=yesterday").status_code == 200
    assert admin.get("/console/usage?days=13&key=nobody").status_code == 200


def test_language_from_header_cookie_and_switch(admin: httpx.Client) -> None:
    assert "<h1>总览</h1>" in admin.get("/console", headers={"Accept-Language": "zh-CN"}).text
    switched = admin.get("/console/language?lang=zh&next=/console/keys")
    assert switched.status_code == 303 and switched.headers["location"] == "/console/keys"
    assert "lg_lang=zh" in switched.headers["set-cookie"]
    assert "<h1>密钥</h1>" in admin.get("/console/keys", headers={"Accept-Language": "en"}).text
    admin.get("/console/language?lang=en&next=/console")
    assert "<h1>Keys</h1>" in admin.get("/console/keys").text


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/console", "/docs", "/console\\@evil"]
)
def test_redirects_stay_inside_the_console(admin: httpx.Client, target: str) -> None:
    response = admin.get("/console/language", params={"lang": "en", "next": target})
    assert response.headers["location"] == "/console"


def test_a_crafted_message_link_shows_no_text(admin: httpx.Client) -> None:
    page = admin.get("/console/keys", params={"msg": "Send your key to evil", "err": "x"})
    assert "Send your key to evil" not in page.text
