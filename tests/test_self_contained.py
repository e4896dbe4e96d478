"""The repository needs nothing beside it: no file refers to the team's reference folder.

Developers and CI have a `shared/` folder of reference material next to the checkout; a
newcomer's clone does not. Whatever the code or the tests need from there is copied into
the repository (tests/specs/, with provenance and licence), and this test keeps it so.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Spelled in pieces so that this file does not match itself.
_UP = re.escape("..") + "/" + "shared"
_SUBFOLDERS = "shared/" + "(?:specs|docs|seeds|hooks)"
REFERENCE = re.compile(f"{_UP}|{_SUBFOLDERS}")


def repository_files() -> list[Path]:
    """Every file of the checkout git would commit (tracked, or new and not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    if listed.returncode != 0:
        pytest.skip(f"not a git checkout: {listed.stderr.decode(errors='replace').strip()}")
    names = [name for name in listed.stdout.decode().split("\0") if name]
    return [ROOT / name for name in names if (ROOT / name).is_file()]


def references(text: str) -> list[str]:
    """The lines of `text` that point outside the repository, at the reference folder."""
    return [line.strip() for line in text.splitlines() if REFERENCE.search(line)]


def test_no_file_refers_to_the_reference_folder() -> None:
    found = []
    for path in repository_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # binary files cannot hold a path a program would open
        found += [f"{path.relative_to(ROOT)}: {line}" for line in references(text)]
    assert found == []


@pytest.mark.parametrize(
    "line",
    [
        'SPEC_DIR = ROOT.parent / "shared" / "specs" / "graph"',  # the joined path is caught below
        "see " + "../" + "shared/" + "docs/slack.md",
        "open('" + "shared/" + "specs/slack/manifest.schema.1.0.0.json')",
    ],
)
def test_the_check_sees_a_reference(line: str) -> None:
    joined = line.replace('" / "', "/")
    assert references(joined) == [joined.strip()]


def test_the_check_leaves_ordinary_words_alone() -> None:
    assert references("shared_accounts, shared with Bright Agency, /{pixel}/shared_accounts") == []


def test_the_check_reads_the_whole_repository() -> None:
    names = {path.relative_to(ROOT).as_posix() for path in repository_files()}
    assert {
        "README.md",
        "pyproject.toml",
        "bot/cli/__init__.py",
        "tests/specs/graph/AdsPixel.json",
    } <= names
