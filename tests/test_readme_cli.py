"""The README's CLI section and the real CLI agree (sqlite-utils' habit: no undocumented command)."""
from __future__ import annotations

import re
from pathlib import Path

import typer
from typer.testing import CliRunner

from healthsync_cli import app

README = Path(__file__).resolve().parents[1] / "README.md"


def documented_commands() -> set[str]:
    text = README.read_text()
    section = text.split("## CLI", 1)[1].split("\n## ", 1)[0]
    found = set()
    for cell in re.findall(r"`(healthsync [^`]*)`", section):
        words = [w for w in cell.split()[1:] if re.fullmatch(r"[a-z][a-z-]*", w)]
        found.add(" ".join(words))
    return found


def real_commands() -> set[str]:
    root = typer.main.get_command(app)
    out = set()

    def walk(cmd, path: list[str]) -> None:
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(sub, [*path, name])
        else:
            out.add(" ".join(path))

    walk(root, [])
    return out


def test_every_documented_command_exists():
    real = real_commands()
    missing = {d for d in documented_commands() if not any(r == d or d.startswith(r + " ") for r in real)}
    assert not missing, f"README documents commands the CLI does not have: {missing}"


def test_every_command_is_documented():
    documented = documented_commands()
    undocumented = {r for r in real_commands() if not any(d == r or d.startswith(r + " ") for d in documented)}
    assert not undocumented, f"commands missing from the README's CLI section: {undocumented}"


def test_help_works_everywhere():
    runner = CliRunner()
    for command in real_commands():
        result = runner.invoke(app, [*command.split(), "--help"])
        assert result.exit_code == 0, (command, result.output)
