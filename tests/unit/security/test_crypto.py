"""SecretBox: checks its key as Fernet does, seals and opens, and loads cryptography only on use."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from lumagate.security.crypto import SecretBox, load_secret_box

BAD_KEYS = [
    b"",
    b"short",
    b"0" * 43,
    b"0" * 44,
    b"!" * 44,
    base64.urlsafe_b64encode(b"k" * 31),
    base64.urlsafe_b64encode(b"k" * 33),
]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_a_bad_key_is_refused_with_fernets_own_words(key: bytes) -> None:
    with pytest.raises(ValueError) as fernet_says:
        Fernet(key)
    with pytest.raises(ValueError) as box_says:
        SecretBox(key)
    assert str(box_says.value) == str(fernet_says.value)


def test_a_good_key_seals_and_opens_and_fernet_reads_the_seal() -> None:
    key = Fernet.generate_key()
    sealed = SecretBox(key).encrypt("token-1")
    assert SecretBox(key).decrypt(sealed) == "token-1"
    assert Fernet(key).decrypt(sealed.encode("ascii")) == b"token-1"
    with pytest.raises(ValueError, match="cannot be decrypted"):
        SecretBox(Fernet.generate_key()).decrypt(sealed)


def test_the_generated_key_file_is_a_fernet_key(tmp_path: Path) -> None:
    box = load_secret_box(tmp_path, None)
    key = (tmp_path / "secret.key").read_bytes().strip()
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600
    assert Fernet(key).decrypt(box.encrypt("x").encode("ascii")) == b"x"
    assert load_secret_box(tmp_path, None).decrypt(box.encrypt("y")) == "y"


def test_cryptography_loads_with_the_first_seal_not_with_the_box() -> None:
    code = (
        "import sys\n"
        "from lumagate.security.crypto import SecretBox\n"
        "box = SecretBox(b'0' * 43 + b'=')\n"
        "box.derive('media-links')\n"
        "print('cryptography' in sys.modules)\n"
        "box.encrypt('x')\n"
        "print('cryptography' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == ["False", "True"]
