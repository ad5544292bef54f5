"""`--token-file PATH` (or `-` for standard input) beside `--token` on every edge command that takes a token: the
token kept out of the process list and shell history, read only from a file no other user can read, and every bad
option refused with one BAD_INPUT line before the store is opened."""
from __future__ import annotations

import base64
import json
import os
import threading
import uuid
from http.server import ThreadingHTTPServer

import pytest
from typer.testing import CliRunner

from edge.token_provider import read_token_file
from healthsync_cli import app
from protocol.errors import InputError
from tests.json_http import JSONHandler

# Every edge command that takes --token, with the arguments it needs besides the token and the store.
COMMANDS = {
    "sync enroll": ["edge", "sync", "enroll", "--server", "http://127.0.0.1:9"],
    "sync run": ["edge", "sync", "run"],
    "patient claim": ["edge", "patient", "claim"],
}


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("HEALTHSYNC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HEALTHSYNC_KEY", "11" * 32)
    for name in ("HEALTHSYNC_PASSPHRASE", "HEALTHSYNC_TOKEN", "SUPABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    old = os.umask(0o022)  # the usual umask: a token file written without care comes out 0644
    yield tmp_path
    os.umask(old)


def jwt(user: uuid.UUID) -> str:
    """An (unsigned) access token naming `user`: the edge reads its `sub` only to name the user locally."""
    def part(doc):
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part({'sub': str(user), 'role': 'authenticated'})}.c2ln"


def token_file(path, content: str, mode: int = 0o600):
    path.write_text(content)
    os.chmod(path, mode)
    return path


def cli(*args, stdin: str | None = None):
    return CliRunner().invoke(app, list(args), input=stdin)


def fresh_store(env, name: str = "phone.db"):
    path = env / name
    made = cli("edge", "init", "--store", str(path), "--json")
    assert made.exit_code == 0, made.output
    return path


def snapshot(directory) -> dict:
    """Every file in the store's directory with its bytes and modification time."""
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(directory.iterdir()) if p.is_file()}


def _ways(env, token: str):
    """The same token given the three ways: on the command line, in a 0600 file, on standard input."""
    path = token_file(env / "token", f"  {token}\n")  # surrounding whitespace (an editor's newline) is dropped
    return {"--token": (["--token", token], None),
            "--token-file PATH": (["--token-file", str(path)], None),
            "--token-file -": (["--token-file", "-"], f"{token}\n")}


# ---------------------------------------------------------------- the token reaches the command


def test_a_token_from_a_file_or_stdin_claims_as_the_same_token_on_the_command_line(env):
    """`patient claim` without a code takes the signed-in (token's) user as the record: the same id each way."""
    user = uuid.uuid4()
    outs = {}
    for n, (way, (args, stdin)) in enumerate(_ways(env, jwt(user)).items()):
        store = fresh_store(env, f"phone{n}.db")
        r = cli(*COMMANDS["patient claim"], *args, "--store", str(store), "--json", stdin=stdin)
        assert r.exit_code == 0, (way, r.output)
        outs[way] = json.loads(r.stdout)
    assert outs["--token"]["id"] == str(user)
    assert outs["--token-file PATH"] == outs["--token"] == outs["--token-file -"]


class _Recorder(JSONHandler):
    """A sync server stand-in that notes each request's Authorization header and refuses it (401)."""

    seen: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's naming)
        type(self).seen.append(self.headers.get("Authorization"))
        self.send_json(401, {"success": False, "error": {"code": "AUTH_INVALID", "message": "token refused"}})


@pytest.fixture
def recorder():
    _Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.seen
    server.shutdown()
    server.server_close()
    thread.join()


def test_enroll_sends_the_token_from_a_file_or_stdin_as_its_bearer(env, recorder):
    url, seen = recorder
    token = jwt(uuid.uuid4())
    store = fresh_store(env)
    outs = {}
    for way, (args, stdin) in _ways(env, token).items():
        r = cli("edge", "sync", "enroll", "--server", url, *args, "--store", str(store), "--json", stdin=stdin)
        assert r.exit_code == 1, (way, r.output)  # the stand-in refuses every token
        outs[way] = json.loads(r.stdout)
    assert seen == [f"Bearer {token}"] * 3
    assert outs["--token-file PATH"] == outs["--token"] == outs["--token-file -"]
    assert outs["--token"]["error"]["code"] == "AUTH_INVALID"


def test_healthsync_token_still_works_and_an_explicit_token_file_wins_over_it(env, monkeypatch):
    """The variable is read by the token provider now, not by the option: it keeps working, and does not count as
    --token given beside --token-file."""
    from_env, from_file = uuid.uuid4(), uuid.uuid4()
    monkeypatch.setenv("HEALTHSYNC_TOKEN", jwt(from_env))
    r = cli(*COMMANDS["patient claim"], "--store", str(fresh_store(env, "a.db")), "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["id"] == str(from_env)
    path = token_file(env / "token", jwt(from_file))
    r = cli(*COMMANDS["patient claim"], "--token-file", str(path), "--store", str(fresh_store(env, "b.db")), "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["id"] == str(from_file)


def test_read_token_file_strips_the_content_and_takes_an_owner_read_only_file(env):
    assert read_token_file(token_file(env / "t", "\n\t abc.def.ghi \r\n", 0o400)) == "abc.def.ghi"


# ---------------------------------------------------------------- refusals, before the store is opened


def _bad(env, case: str):
    """(arguments, stdin, what the message says, the hint) for each way of giving a bad token file."""
    token = jwt(uuid.uuid4())
    if case == "group/other-readable":
        path = token_file(env / "token", token, 0o644)
        return ["--token-file", str(path)], None, "can be read by other users (mode 0644)", f"chmod 600 {path}"
    if case == "group-readable":
        path = token_file(env / "token", token, 0o640)
        return ["--token-file", str(path)], None, "(mode 0640)", f"chmod 600 {path}"
    if case == "missing":
        return ["--token-file", str(env / "nope")], None, "no such file", "`-` for standard input"
    if case == "empty":
        return ["--token-file", str(token_file(env / "token", ""))], None, "it is empty", "write the access token"
    if case == "blank":
        return ["--token-file", str(token_file(env / "token", " \n\n"))], None, "it is empty", "write the access"
    if case == "directory":
        (env / "tokens").mkdir()
        return ["--token-file", str(env / "tokens")], None, "is not a regular file", "`-` for standard input"
    if case == "fifo":
        os.mkfifo(env / "pipe", 0o600)  # opening it would block; it is refused instead
        return ["--token-file", str(env / "pipe")], None, "is not a regular file", "`-` for standard input"
    if case == "two lines":
        return ["--token-file", str(token_file(env / "token", f"{token}\n{token}\n"))], None, "more than one word", None
    if case == "empty stdin":
        return ["--token-file", "-"], "", "no token in standard input", "pipe the access token in"
    if case == "both options":
        path = token_file(env / "token", token)
        return ["--token", token, "--token-file", str(path)], None, "give --token or --token-file, not both", \
            "keep --token-file"
    if case == "stdin twice":
        return ["--token-file", "-", "--passphrase-stdin"], f"{token}\n", "both read standard input", \
            "HEALTHSYNC_PASSPHRASE"
    raise AssertionError(case)


CASES = ["group/other-readable", "group-readable", "missing", "empty", "blank", "directory", "fifo", "two lines",
         "empty stdin", "both options", "stdin twice"]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case", CASES)
def test_a_bad_token_file_is_one_bad_input_line_and_the_store_is_untouched(env, monkeypatch, command, case):
    store = fresh_store(env)
    monkeypatch.setenv("HEALTHSYNC_KEY", "22" * 32)  # a command that opened the store first would say STORE_LOCKED
    args, stdin, says, hint = _bad(env, case)
    before = snapshot(env)
    r = cli(*COMMANDS[command], *args, "--store", str(store), stdin=stdin)
    assert r.exit_code == 1, r.output
    assert r.stdout == "" and "Traceback" not in r.output
    first = r.stderr.splitlines()[0]
    assert first.startswith("error [BAD_INPUT] ") and says in " ".join(r.stderr.split())
    if hint:
        assert "hint: " in r.stderr and hint in " ".join(r.stderr.split())
    assert snapshot(env) == before  # the store was not even opened: no -wal, no byte or mtime changed


@pytest.mark.parametrize("command", COMMANDS)
def test_a_refused_token_file_creates_no_store(env, command):
    """Checked before the store: the token's error, not "no store", and nothing is made."""
    path = token_file(env / "token", jwt(uuid.uuid4()), 0o644)
    store = env / "never" / "edge.db"
    r = cli(*COMMANDS[command], "--token-file", str(path), "--store", str(store))
    assert r.exit_code == 1 and "[BAD_INPUT]" in r.stderr
    assert not store.parent.exists()


@pytest.mark.parametrize("command", COMMANDS)
def test_with_json_the_refusal_is_an_error_object_on_stdout(env, command):
    path = token_file(env / "token", jwt(uuid.uuid4()), 0o604)
    r = cli(*COMMANDS[command], "--token-file", str(path), "--store", str(fresh_store(env)), "--json")
    assert r.exit_code == 1
    answer = json.loads(r.stdout)
    assert answer["success"] is False
    assert answer["error"]["code"] == "BAD_INPUT" and answer["error"]["field"] == "token_file"
    assert answer["error"]["hint"] == f"chmod 600 {path}"
    assert "0604" in answer["error"]["message"]


def test_read_token_file_refuses_what_the_cli_refuses(env):
    with pytest.raises(InputError, match="can be read by other users") as info:
        read_token_file(token_file(env / "t", "tok", 0o660))
    assert info.value.hint == f"chmod 600 {env / 't'}"
    with pytest.raises(InputError, match="no such file"):
        read_token_file(env / "missing")
