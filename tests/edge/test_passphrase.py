"""The store passphrase: never on argv (hidden prompt, confirmed on init; --passphrase-stdin; the environment),
weak ones refused on init, and `healthsync edge passphrase change` re-wraps the data key (Argon2id, real KDF)."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from edge.keys import KeySource
from edge.passphrase import WeakPassphraseError, check_strength
from edge.store import Store
from healthsync_cli import app
from protocol.errors import StoreLockedError

GOOD = "violet tractor humming 42 lanterns"
OTHER = "quiet harbour ferns under copper rain"


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("HEALTHSYNC_HOME", str(tmp_path))
    monkeypatch.delenv("HEALTHSYNC_KEY", raising=False)
    monkeypatch.delenv("HEALTHSYNC_PASSPHRASE", raising=False)
    return tmp_path


def run(*args, input=None):
    return CliRunner().invoke(app, list(args), input=input)


def _metric_values(home, passphrase):
    with Store.open(home / "edge.db", KeySource(passphrase=passphrase)) as store:
        return [m.value for m in store.health_metrics.list()]


def test_init_prompts_hidden_and_confirmed_then_commands_prompt(home):
    """Before: the passphrase came from `--passphrase X` (visible in `ps`) or the environment only."""
    out = run("edge", "init", "--json", input=f"{GOOD}\n{GOOD}\n")
    assert out.exit_code == 0, out.output
    assert GOOD not in out.output  # hidden input: not echoed
    assert run("edge", "metrics", "add", "heart_rate", "64", input=f"{GOOD}\n").exit_code == 0
    listed = run("edge", "metrics", "list", "--json", input=f"{GOOD}\n")
    assert listed.exit_code == 0 and '"heart_rate"' in listed.stdout
    assert _metric_values(home, GOOD) == [64]


def test_init_refuses_a_confirmation_that_differs(home):
    out = run("edge", "init", input=f"{GOOD}\n{OTHER}\n")
    assert out.exit_code == 1 and "STORE_LOCKED" in out.output and "Traceback" not in out.output
    assert not (home / "edge.db").exists()


def test_passphrase_stdin_for_scripts(home):
    assert run("edge", "init", "--passphrase-stdin", input=f"{GOOD}\n").exit_code == 0
    out = run("edge", "metrics", "add", "heart_rate", "70", "--passphrase-stdin", input=f"{GOOD}\n")
    assert out.exit_code == 0, out.output
    empty = run("edge", "metrics", "list", "--passphrase-stdin", input="")
    assert empty.exit_code == 1 and "no passphrase on standard input" in empty.output
    assert _metric_values(home, GOOD) == [70]


def test_the_old_argv_option_is_gone(home):
    out = run("edge", "init", "--passphrase", GOOD)
    assert out.exit_code == 2 and not (home / "edge.db").exists()


def test_no_key_and_no_input_is_a_clean_error(home):
    assert run("edge", "init", "--passphrase-stdin", input=f"{GOOD}\n").exit_code == 0
    out = run("edge", "info", input="")
    assert out.exit_code == 1 and "STORE_LOCKED" in out.output and "HEALTHSYNC_PASSPHRASE" in out.output


@pytest.mark.parametrize("weak", ["password1234", "short", "qwertyuiopasdfgh", "aaaaaaaaaaaaaaaa",
                                  "iloveyou123456", "adalovelace1815"])
def test_weak_passphrases_are_refused_on_init(home, weak, monkeypatch):
    who = ("--name", "Ada Lovelace", "--email", "ada@example.org")  # the user's own name counts as guessable
    out = run("edge", "init", *who, input=f"{weak}\n{weak}\n")
    assert out.exit_code == 1 and "WEAK_PASSPHRASE" in out.output and "hint:" in out.output
    assert not (home / "edge.db").exists()
    monkeypatch.setenv("HEALTHSYNC_PASSPHRASE", weak)  # the environment is checked as well
    assert "WEAK_PASSPHRASE" in run("edge", "init", *who).output


def test_a_raw_key_from_the_environment_needs_no_strength_check(home, monkeypatch):
    monkeypatch.setenv("HEALTHSYNC_KEY", "ab" * 32)
    assert run("edge", "init").exit_code == 0


@pytest.mark.parametrize("good", [GOOD, "correct horse battery staple", "ZS7q-pL2x-9wVt-k3"])
def test_strong_passphrases_pass(good):
    check_strength(good)


def test_weak_check_names_the_field():
    with pytest.raises(WeakPassphraseError) as err:
        check_strength("Summer2024!!")  # 12 characters, zxcvbn score 3 (about 10^8 guesses)
    assert err.value.field == "passphrase" and err.value.code == "WEAK_PASSPHRASE"


def test_change_round_trip(home):
    assert run("edge", "init", "--passphrase-stdin", input=f"{GOOD}\n").exit_code == 0
    assert run("edge", "metrics", "add", "heart_rate", "66", "--passphrase-stdin", input=f"{GOOD}\n").exit_code == 0
    with Store.open(home / "edge.db", KeySource(passphrase=GOOD)) as store:
        device, cipher_before = store.device_id, store.query("SELECT payload FROM health_metrics")

    out = run("edge", "passphrase", "change", "--json", input=f"{GOOD}\n{OTHER}\n{OTHER}\n")  # prompts
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["changed"] is True
    with pytest.raises(StoreLockedError):
        Store.open(home / "edge.db", KeySource(passphrase=GOOD))
    with Store.open(home / "edge.db", KeySource(passphrase=OTHER)) as store:
        assert store.device_id == device and [m.value for m in store.health_metrics.list()] == [66]
        assert store.query("SELECT payload FROM health_metrics") == cipher_before  # re-wrapped, not re-encrypted
    back = run("edge", "passphrase", "change", "--passphrase-stdin", input=f"{OTHER}\n{GOOD}\n")
    assert back.exit_code == 0, back.output
    assert _metric_values(home, GOOD) == [66]


def test_change_refuses_a_wrong_current_or_a_weak_new_passphrase(home):
    assert run("edge", "init", "--passphrase-stdin", input=f"{GOOD}\n").exit_code == 0
    wrong = run("edge", "passphrase", "change", "--passphrase-stdin", input=f"{OTHER}\n{OTHER} 2\n")
    assert wrong.exit_code == 1 and "STORE_LOCKED" in wrong.output
    weak = run("edge", "passphrase", "change", "--passphrase-stdin", input=f"{GOOD}\npassword1234\n")
    assert weak.exit_code == 1 and "WEAK_PASSPHRASE" in weak.output
    same = run("edge", "passphrase", "change", "--passphrase-stdin", input=f"{GOOD}\n{GOOD}\n")
    assert same.exit_code == 1 and "current one" in same.output
    assert _metric_values(home, GOOD) == []  # still opens with the original


def test_change_key_is_one_transaction(tmp_path):
    """A failure after the old key was verified (here: the new key cannot be derived) leaves the old wrap."""
    path = tmp_path / "edge.db"
    Store.open(path, KeySource(passphrase=GOOD), create=True).close()
    with pytest.raises(StoreLockedError, match="empty passphrase"):
        Store.change_key(path, KeySource(passphrase=GOOD), KeySource(passphrase=""))
    with pytest.raises(StoreLockedError, match="wrong passphrase"):
        Store.change_key(path, KeySource(passphrase=OTHER), KeySource(passphrase=GOOD))
    Store.open(path, KeySource(passphrase=GOOD)).close()
    raw = KeySource(raw_key=bytes(range(32)))
    Store.change_key(path, KeySource(passphrase=GOOD), raw)  # to a raw key (an OS key store) and back
    Store.change_key(path, raw, KeySource(passphrase=OTHER))
    Store.open(path, KeySource(passphrase=OTHER)).close()
