"""The command line named in issue 10 exists exactly as named, with its options, `--json` wherever something is
created, and `--patient` on every pipeline command that records something for a patient."""
from __future__ import annotations

import pytest
import typer

from healthsync_cli import app

# (command, options it must take), from the issue's "The command line" block.
CONTRACT = [
    ("server clinic create", ["--json"]),
    ("server user add", ["--email", "--password-stdin", "--name", "--json"]),
    ("server staff add", ["--clinic", "--user", "--role", "--json"]),
    ("server doctor add", ["--user", "--clinic", "--specialty", "--languages", "--price-min", "--price-max", "--json"]),
    ("server token", ["--user", "--role", "--clinic", "--json"]),
    ("edge init", ["--clinic", "--json"]),
    ("edge sign-in", ["--email", "--password-stdin", "--auth-url", "--pin", "--json"]),
    ("edge sign-out", []),
    ("edge patient register", ["--name", "--dob", "--sex", "--mrn", "--json"]),
    ("edge patient find", ["--json"]),
    ("edge patient list", ["--json"]),
    ("edge patient check-in", ["--json"]),
    ("edge metrics add", ["--patient", "--json"]),
    ("edge consent grant", ["--patient", "--clinic", "--json"]),
    ("edge consent withdraw", ["--patient", "--clinic", "--json"]),
    ("edge consent list", ["--patient", "--json"]),
]
# Every pipeline command that records something takes --patient (the patient being seen on a kiosk).
PIPELINES = ["edge voice analyze", "edge scan", "edge therapy run", "edge therapy plan", "edge twin factors",
             "edge twin report", "edge twin simulate", "edge twin family add"]


def _command(path: str):
    cmd = typer.main.get_command(app)
    for word in path.split():
        cmd = cmd.commands[word]
    return cmd


def _options(path: str) -> set[str]:
    return {opt for p in _command(path).params for opt in p.opts}


@pytest.mark.parametrize(("path", "options"), CONTRACT, ids=[c for c, _ in CONTRACT])
def test_the_issues_commands_exist_with_their_options(path, options):
    missing = set(options) - _options(path)
    assert not missing, f"healthsync {path} lacks {missing}"


@pytest.mark.parametrize("path", PIPELINES)
def test_every_pipeline_command_takes_the_patient(path):
    assert "--patient" in _options(path)



def test_an_error_is_one_line_with_its_code_and_with_json_an_object_on_stdout(tmp_path):
    import json

    from typer.testing import CliRunner

    missing = str(tmp_path / "none.db")
    plain = CliRunner().invoke(app, ["edge", "patient", "find", "Ada", "--store", missing])
    assert plain.exit_code == 1 and plain.stdout == "" and "[NOT_FOUND]" in plain.stderr
    scripted = CliRunner().invoke(app, ["edge", "patient", "find", "Ada", "--store", missing, "--json"])
    assert scripted.exit_code == 1
    assert json.loads(scripted.stdout)["error"]["code"] == "NOT_FOUND"
    assert json.loads(scripted.stdout)["error"]["hint"] == "run `healthsync edge init` first"
