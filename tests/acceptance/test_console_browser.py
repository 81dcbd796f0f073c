"""The operator console in a real browser (Debian's Chromium via Playwright) against a real
``lumagate serve`` with the sandbox provider: sign in, keys, accounts, a playground video that
plays, the task log and page, Chinese, sign-out; every request to the gateway only.

Screenshots of every page in English and Chinese (and two on a phone) are written to
``test-artifacts/console/``.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.acceptance import png_bytes, start_picture
from tests.support.browser import CHROMIUM_ARGS, RequestLog, chromium_or_skip, screenshot
from tests.support.receiver import CallbackReceiver
from tests.support.servers import GatewayServer, server_env

pytestmark = pytest.mark.slow

STARTUP_SECONDS = 120.0  # a loaded shared CI machine can take long to import and migrate
ADMIN_KEY = "sk-lg-admin-browser-test-0123456789abcdef"
RELAY_SECRET = "relay-secret-never-shown-5f2a"
PAGES = ("", "/accounts", "/keys", "/tasks", "/usage", "/playground")
VIDEO_DEADLINE_MS = 180_000


@pytest.fixture(scope="module")
def receiver() -> Iterator[CallbackReceiver]:
    started = CallbackReceiver().start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayServer]:
    data_dir = tmp_path_factory.mktemp("console-browser") / "data"
    data_dir.mkdir(parents=True)
    env = server_env(
        data_dir, admin_key=ADMIN_KEY, callback_allow="127.0.0.1", refresh_interval_seconds="0.5"
    )
    gateway = GatewayServer(data_dir, env, startup_seconds=STARTUP_SECONDS).start()
    yield gateway
    gateway.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def _sign_in(page: Any, key: str) -> None:
    page.fill("#admin_key", key)
    page.click("form[action='/console/sign-in'] button[type=submit]")


def test_console_end_to_end(
    browser: Any, server: GatewayServer, receiver: CallbackReceiver
) -> None:  # ``browser`` first: without Chromium, skip (or fail in CI) before starting a server
    base = server.base_url
    requests = RequestLog()
    context = browser.new_context(viewport={"width": 1280, "height": 720}, locale="en-US")
    context.set_default_timeout(60_000)
    page = context.new_page()
    page.on("request", requests.record)

    # -- sign in: a wrong key is refused and never echoed; the admin key gets a session ------
    page.goto(base + "/")
    assert page.url.startswith(base + "/console/sign-in")
    screenshot(page, "en-sign-in")
    _sign_in(page, "sk-lg-not-the-admin-key")
    assert page.locator("#sign-in-error").is_visible()
    assert "sk-lg-not-the-admin-key" not in page.content()
    _sign_in(page, ADMIN_KEY)
    page.wait_for_url(base + "/console")
    assert page.locator("h1").inner_text() == "Overview"
    cookie = next(c for c in context.cookies() if c["name"] == "lg_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["expires"] > 0
    assert ADMIN_KEY not in cookie["value"]

    tenant_key = _create_and_top_up_key(page, base)
    _add_and_disable_account(page, base)
    task_id, extension = _playground_video(page, base, receiver)
    _task_log_and_page(page, base, task_id, extension)

    # -- the same task page in Chinese, remembered across pages ------------------------------
    page.click("header .langs a[lang='zh-CN']")
    page.wait_for_url(re.compile(r".*/console/tasks/" + task_id))
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator("h2", has_text="回调投递").is_visible()
    assert page.locator("h2", has_text="账单").is_visible()
    assert page.locator("#task-state").inner_text() == "已完成"
    screenshot(page, "zh-task")
    _screenshots_of_every_page(page, base, "zh")
    page.click("header .langs a[lang='en']")
    page.wait_for_load_state()
    _screenshots_of_every_page(page, base, "en")
    _phone_screenshots(browser, context, base, task_id)

    # -- usage as CSV, keyboard order -------------------------------------------------------
    csv_rows = page.request.get(base + "/console/usage.csv?days=7").text().splitlines()
    assert csv_rows[0] == "day,key_id,key_name,generations,credits"
    tenant_rows = [r.split(",") for r in csv_rows[1:] if ",browser-tenant," in r]
    assert len(tenant_rows) == 1 and tenant_rows[0][3] == "2" and int(tenant_rows[0][4]) > 100
    page.goto(base + "/console/tasks")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "/console"

    # -- sign out, then the console refuses -------------------------------------------------
    page.goto(base + "/console/keys")
    page.click("#sign-out")
    page.wait_for_url(re.compile(r".*/console/sign-in.*"))
    page.goto(base + "/console/keys")
    assert "/console/sign-in" in page.url
    status = page.evaluate(
        "async (id) => (await fetch('/console/tasks/' + id + '/status',"
        " {headers: {Accept: 'application/json'}})).status",
        task_id,
    )
    assert status == 401

    # the key read once works as a tenant key, and it cannot sign in to the console
    with httpx.Client(base_url=base, timeout=30) as http:
        me = http.get("/luma/users/me", headers={"Authorization": f"Bearer {tenant_key}"})
        assert me.status_code == 200, me.text
    _sign_in(page, tenant_key)
    assert page.locator("#sign-in-error").is_visible()

    assert requests.urls, "no request was recorded"
    assert requests.foreign(base) == []
    context.close()


def _create_and_top_up_key(page: Any, base: str) -> str:
    page.click("nav a[href='/console/keys']")
    page.fill("#key-name", "browser-tenant")
    page.fill("#key-credits", "500")
    page.click("#create-key button[type=submit]")
    key = page.locator("#new-key").inner_text().strip()
    assert key.startswith("sk-lg-") and len(key) > 30
    screenshot(page, "en-key-created")
    page.click("a[href='/console/keys']")
    assert key not in page.content(), "the key must be shown only once"
    row = page.locator("tr[data-key='browser-tenant']")
    assert row.locator("[data-credits]").inner_text() == "500"
    row.locator("input[name=amount]").fill("250")
    row.locator("form[action$='/top-up'] button").click()
    page.wait_for_url(re.compile(r".*msg=flash.topped_up.*"))
    row = page.locator("tr[data-key='browser-tenant']")
    assert row.locator("[data-credits]").inner_text() == "750"
    return key


def _add_and_disable_account(page: Any, base: str) -> None:
    page.click("nav a[href='/console/accounts']")
    page.select_option("#acc-kind", "relay")
    page.fill("#acc-name", "relay-browser")
    page.fill("#acc-secret", RELAY_SECRET)
    page.fill("#acc-base", "http://127.0.0.1:9")
    for channel in ("default", "vip"):  # pro only: the sandbox keeps serving default
        page.uncheck(f"#acc-ch-{channel}")
    page.click("#add-account button[type=submit]")
    page.wait_for_url(re.compile(r".*msg=flash.account_added.*"))
    row = page.locator("tr[data-account='relay-browser']")
    assert row.locator("[data-state]").get_attribute("data-state") == "enabled"
    _cancel_a_task_on_its_page(page, base)
    page.click("nav a[href='/console/accounts']")
    row = page.locator("tr[data-account='relay-browser']")
    row.locator("form[action$='/disable'] button").click()
    page.wait_for_url(re.compile(r".*msg=flash.account_disabled.*"))
    row = page.locator("tr[data-account='relay-browser']")
    assert row.locator("[data-state]").get_attribute("data-state") == "disabled"
    assert RELAY_SECRET not in page.content()


def _cancel_a_task_on_its_page(page: Any, base: str) -> None:
    """A pro task goes to the relay, whose address answers nothing: it stays unfinished, and
    its page's cancel button (after the confirm dialog) cancels and refunds it."""
    with httpx.Client(base_url=base, timeout=30) as http:
        admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
        made = http.post(
            "/admin/keys", json={"name": "cancel-tenant", "credits": 1000}, headers=admin
        )
        assert made.status_code == 201, made.text
        tenant = {"Authorization": f"Bearer {made.json()['key']}"}
        created = http.post(
            "/pro/luma/generations", json={"user_prompt": "cancel me"}, headers=tenant
        )
        assert created.status_code == 200, created.text
    task_id = created.json()["id"]
    page.goto(base + f"/console/tasks/{task_id}")
    assert page.locator("#task-state").inner_text() in ("queued", "submitting")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#cancel-task button[type=submit]")
    page.wait_for_url(re.compile(r".*msg=flash.task_cancelled.*"))
    assert page.locator("#task-state").inner_text() == "cancelled"
    assert page.locator("#cancel-task").count() == 0  # an ended task has no cancel button
    ledger = page.locator("#ledger-table tbody")
    assert ledger.locator("td", has_text="refund").count() == 1
    screenshot(page, "en-task-cancelled")


def _playground_video(page: Any, base: str, receiver: CallbackReceiver) -> tuple[str, str]:
    page.click("nav a[href='/console/playground']")
    page.select_option("#pg-key", label="browser-tenant (750)")
    page.fill("#pg-prompt", "a red fox crossing a snowy field")
    with tempfile.TemporaryDirectory() as folder:
        image = Path(folder) / "start.png"
        image.write_bytes(png_bytes(start_picture()))
        page.set_input_files("#start_image-file", str(image))
        page.fill("#pg-callback", receiver.url + "/hook")
        page.click("#pg-submit")
        page.wait_for_url(re.compile(r".*/console/playground\?task=.*"))
    task_id = page.url.split("task=")[1].split("&")[0]
    screenshot(page, "en-playground-running")
    page.wait_for_function(
        "() => document.getElementById('player').dataset.state === 'completed'",
        timeout=VIDEO_DEADLINE_MS,
    )
    assert page.locator("#live-state").inner_text() == "completed"
    page.wait_for_function("() => document.getElementById('video').readyState >= 2", timeout=60_000)
    start = page.evaluate("document.getElementById('video').currentTime")
    page.evaluate("document.getElementById('video').play()")
    page.wait_for_function(
        f"() => document.getElementById('video').currentTime > {start} + 0.2", timeout=30_000
    )
    assert page.locator("#extend-form").is_visible()
    screenshot(page, "en-playground-done")
    page.fill("#ext-prompt", "the fox leaps into the air")
    page.click("#extend-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/console/playground\?task=.*"))
    extension = page.url.split("task=")[1].split("&")[0]
    assert extension != task_id
    page.wait_for_function(
        "() => ['completed', 'failed'].includes(document.getElementById('player').dataset.state)",
        timeout=VIDEO_DEADLINE_MS,
    )
    assert page.locator("#live-state").inner_text() == "completed"
    return task_id, extension


def _task_log_and_page(page: Any, base: str, task_id: str, extension: str) -> None:
    page.click("nav a[href='/console/tasks']")
    form = page.locator("#task-filters")
    form.locator("select[name=state]").select_option("completed")
    form.locator("input[name=key]").fill("browser-tenant")
    form.locator("select[name=dialect]").select_option("console")
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r".*state=completed.*"))
    rows = page.locator("#tasks-table tbody tr[data-task]")
    found = {rows.nth(i).get_attribute("data-task") for i in range(rows.count())}
    assert found == {task_id, extension}
    form = page.locator("#task-filters")
    form.locator("select[name=state]").select_option("failed")
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r".*state=failed.*"))
    assert page.locator("#tasks-table tbody tr[data-task]").count() == 0
    page.go_back()
    page.click(f"a[href='/console/tasks/{task_id}']")
    page.wait_for_url(base + f"/console/tasks/{task_id}")
    delivered = page.locator(".delivery[data-delivery] .pill.delivered")
    for _ in range(60):  # the callback is sent just after completion: reload until it shows
        if delivered.count():
            break
        page.wait_for_timeout(500)
        page.reload()
    assert delivered.count() >= 1
    assert page.locator(".delivery td", has_text="200").count() >= 1
    ledger = page.locator("#ledger-table tbody")
    assert ledger.locator("td", has_text="charge").count() == 1
    assert page.locator("#task-account").inner_text() == "sandbox"
    page.wait_for_function("() => document.getElementById('video').readyState >= 2", timeout=60_000)
    assert page.locator("#video").get_attribute("poster")
    screenshot(page, "en-task")


def _screenshots_of_every_page(page: Any, base: str, lang: str) -> None:
    for path in PAGES:
        page.goto(base + "/console" + path)
        assert page.locator("html").get_attribute("lang") == ("zh-CN" if lang == "zh" else "en")
        screenshot(page, f"{lang}-{path.strip('/') or 'overview'}")


def _phone_screenshots(browser: Any, desktop: Any, base: str, task_id: str) -> None:
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    phone.add_cookies([c for c in desktop.cookies() if c["name"] == "lg_console"])
    page = phone.new_page()
    page.goto(base + "/console")
    assert page.locator("h1").inner_text() == "总览"  # from Accept-Language: no cookie set
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the overview scrolls sideways on a phone ({width}px)"
    screenshot(page, "phone-zh-overview")
    page.goto(base + f"/console/tasks/{task_id}")
    screenshot(page, "phone-zh-task")
    phone.close()
