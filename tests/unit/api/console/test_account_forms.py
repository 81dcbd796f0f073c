"""The add-account form: one secret per kind, the settings a kind needs, refusals."""

from __future__ import annotations

import pytest

from lumagate.api.console.account_forms import new_account
from lumagate.api.console.views import FormError
from lumagate.domain.accounts import CALLBACKS, HOOK_TOKEN, NewAccount
from lumagate.domain.channels import Channel


def _new(**changes: object) -> NewAccount:
    values: dict[str, object] = {
        "kind": "luma-official",
        "secret": "luma-abc",
        "name": "",
        "url": "",
        "max_concurrency": 3,
        "channels": (Channel.VIP,),
        "taken": {"luma-official-1"},
    }
    values.update(changes)
    return new_account(**values)  # type: ignore[arg-type]


def test_an_official_key_gets_a_free_name_and_its_callback_token() -> None:
    new = _new()
    assert new.name == "luma-official-2"
    assert new.credentials == {"api_key": "luma-abc"}
    assert new.settings[CALLBACKS] is True and len(new.settings[HOOK_TOKEN]) >= 32
    assert new.channels == (Channel.VIP,) and new.max_concurrency == 3


def test_a_web_cookie_and_a_relay() -> None:
    web = _new(kind="luma-web", secret="access_token=x", name="web-a")
    assert web.credentials == {"cookie": "access_token=x"} and web.settings == {}
    relay = _new(kind="relay", secret="sk-other", url="https://other.example/vip/")
    assert relay.base_url == "https://other.example/vip" and relay.credentials == {
        "api_key": "sk-other"
    }


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"kind": "sandbox"}, "error.kind"),
        ({"secret": ""}, "error.secret_required"),
        ({"name": "luma-official-1"}, "error.name_taken"),
        ({"kind": "relay"}, "error.base_url_required"),
        ({"url": "ftp://x"}, "error.base_url"),
    ],
)
def test_refusals(changes: dict[str, object], error: str) -> None:
    with pytest.raises(FormError) as refused:
        _new(**changes)
    assert refused.value.key == error
