"""Keys (issue 25 #1): production refuses a missing, default, short or shared key, naming the variable;
development generates private keys; storage-state keys rotate; everything written is private."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings

from accounts.crypto import decrypt_json, encrypt_json
from accounts.models import Account
from crawler.browser import BrowserPool
from imhub.processes import child_env

ROOT = Path(__file__).resolve().parents[2]
GOOD_SECRET = "s" * 60
GOOD_STORAGE = "k" * 40


def _check(tmp_path: Path, **env: Any) -> subprocess.CompletedProcess[str]:
    environment = child_env(
        drop=["SECRET_KEY", "STORAGE_STATE_KEY", "IMHUB_ENV"], IMHUB_VAR_DIR=str(tmp_path / "var"), **env
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({}, "SECRET_KEY is not set"),
        (
            {"SECRET_KEY": "imhub-insecure-dev-key-change-me-in-production-0123456789"},
            "SECRET_KEY is not set",
        ),
        ({"SECRET_KEY": "short"}, "SECRET_KEY is 5 characters"),
        ({"SECRET_KEY": GOOD_SECRET}, "STORAGE_STATE_KEY is not set"),
        (
            {"SECRET_KEY": GOOD_SECRET, "STORAGE_STATE_KEY": "tiny"},
            "STORAGE_STATE_KEY entry 1 is 4 characters",
        ),
        ({"SECRET_KEY": GOOD_SECRET, "STORAGE_STATE_KEY": GOOD_SECRET}, "equals SECRET_KEY"),
    ],
)
def test_production_refuses_to_start_on_a_bad_key_and_names_it(
    tmp_path: Path, env: dict[str, str], says: str
) -> None:
    done = _check(tmp_path, IMHUB_ENV="production", **env)
    assert done.returncode != 0
    assert "refusing to start in production" in done.stderr and says in done.stderr


def test_production_starts_with_good_keys_and_development_generates_private_ones(tmp_path: Path) -> None:
    assert (
        _check(
            tmp_path, IMHUB_ENV="production", SECRET_KEY=GOOD_SECRET, STORAGE_STATE_KEY=GOOD_STORAGE
        ).returncode
        == 0
    )
    dev = tmp_path / "dev"
    assert _check(dev).returncode == 0
    keys = dev / "var" / "keys"
    assert stat.S_IMODE((dev / "var").stat().st_mode) == 0o700
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    for name in ("secret_key", "storage_state_key"):
        assert stat.S_IMODE((keys / name).stat().st_mode) == 0o600
        assert len((keys / name).read_text()) >= 60
    first = (keys / "secret_key").read_text()
    assert _check(dev).returncode == 0
    assert (keys / "secret_key").read_text() == first  # generated once


@pytest.mark.django_db
def test_storage_state_keys_rotate_and_rekey_moves_every_account_to_the_new_key(settings: Any) -> None:
    # given an account whose cookies were encrypted with the old key
    settings.STORAGE_STATE_KEYS = ["old-key-" + "o" * 40]
    account = Account.objects.create(nickname="a", platform="douyin")
    account.set_storage_state({"cookies": [{"name": "sessionid", "value": "s3cret"}]})
    account.save()
    old_token = Account.objects.get(pk=account.pk).storage_state_encrypted
    # when a new key is put first, the old one still decrypts
    settings.STORAGE_STATE_KEYS = ["new-key-" + "n" * 40, "old-key-" + "o" * 40]
    assert Account.objects.get(pk=account.pk).get_storage_state()["cookies"][0]["value"] == "s3cret"  # type: ignore[index]
    # and after the rekey command the new key alone does
    call_command("storage_state_rekey")
    settings.STORAGE_STATE_KEYS = ["new-key-" + "n" * 40]
    reloaded = Account.objects.get(pk=account.pk)
    assert reloaded.storage_state_encrypted != old_token
    assert reloaded.get_storage_state()["cookies"][0]["value"] == "s3cret"  # type: ignore[index]
    with override_settings(STORAGE_STATE_KEYS=["another-" + "x" * 40]):
        assert decrypt_json(encrypt_json({"a": 1})) == {"a": 1}
        assert decrypt_json(reloaded.storage_state_encrypted) is None


def test_the_worker_keeps_storage_state_encrypted_and_private(tmp_path: Path) -> None:
    pool = BrowserPool(data_dir=tmp_path / "w1")
    state = {
        "cookies": [{"name": "sessionid", "value": "s3cret-cookie", "domain": "x", "path": "/"}],
        "origins": [],
    }
    pool.storage_state_store(7, state)
    path = pool.state_path(7)
    assert b"s3cret-cookie" not in path.read_bytes()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "w1" / "keys" / "state.key").stat().st_mode) == 0o600
    assert BrowserPool(data_dir=tmp_path / "w1").storage_state_load(7) == state
    # an older worker's plain file is read and written back encrypted
    path.write_text('{"cookies": [], "origins": [{"origin": "legacy"}]}')
    assert pool.storage_state_load(7) == {"cookies": [], "origins": [{"origin": "legacy"}]}
    assert b"legacy" not in path.read_bytes()
    # another worker's key does not open it
    assert BrowserPool(data_dir=tmp_path / "w1", state_key="other").storage_state_load(7) is None
