""".env.example cannot drift from the settings: every `Settings` field is in it, every
variable in it is a field, its defaults are the real defaults, what it marks required is
what `serve` refuses to start without, and it holds no value that could pass as a secret.

Its lines are `NAME=` (required, to fill in), `# NAME=default` (optional) or prose.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import typing
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bot.config import Settings, load_settings
from bot.errors import ConfigError
from bot.runtime import ServeOptions, serve
from tests.fakes.slack import BOT_TOKEN
from tests.signing import SIGNING_SECRET

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / ".env.example"
FIELDS = {name.upper(): name for name in Settings.model_fields}
SECRETS = {
    name.upper()
    for name, field in Settings.model_fields.items()
    if SecretStr in typing.get_args(field.annotation)
}
_REQUIRED = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$")
_OPTIONAL = re.compile(r"^# ([A-Z][A-Z0-9_]*)=(.*)$")
# What real secrets look like: Slack and Meta tokens (as bot/logs.py masks them), a Fernet
# key; and, in a value, any long run of random-looking characters.
_SECRET_SHAPES = re.compile(
    r"xox[abposr]-[A-Za-z0-9-]{8,}|xapp-[A-Za-z0-9-]{8,}|EAA[A-Za-z0-9]{20,}|[A-Za-z0-9_-]{43}="
)
_RANDOM_RUN = re.compile(r"[A-Za-z0-9+/_-]{24,}")


def _lines() -> list[str]:
    return EXAMPLE.read_text(encoding="utf-8").splitlines()


def _required() -> dict[str, str]:
    """NAME -> value of the lines that set a variable."""
    return {m[1]: m[2] for line in _lines() if (m := _REQUIRED.match(line))}


def _optional() -> dict[str, str]:
    """NAME -> documented default of the commented-out settings."""
    return {m[1]: m[2] for line in _lines() if (m := _OPTIONAL.match(line))}


def _names() -> list[str]:
    return [*_required(), *_optional()]


def _filled_in() -> dict[str, str]:
    """Made-up values for the required variables (all of which are secrets)."""
    values = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "PIXELBOT_SECRET_KEY": Fernet.generate_key().decode(),
    }
    assert set(_required()) <= set(values), "a new required variable needs a value here"
    return {name: values[name] for name in _required()}


def test_every_setting_is_in_the_example() -> None:
    missing = sorted(set(FIELDS) - set(_names()))
    assert missing == [], f"add these settings to .env.example: {missing}"


def test_every_variable_in_the_example_is_a_setting() -> None:
    unknown = sorted(set(_names()) - set(FIELDS))
    assert unknown == [], f".env.example names variables pixelbot does not read: {unknown}"


def test_each_variable_appears_once() -> None:
    names = _names()
    assert sorted(n for n in set(names) if names.count(n) > 1) == []


def test_every_line_is_a_setting_or_a_comment() -> None:
    """A typo such as `#NAME=x` or `NAME = x` would silently document nothing."""
    odd = [
        line
        for line in _lines()
        if line
        and not _REQUIRED.match(line)
        and not _OPTIONAL.match(line)
        and not (line.startswith("# ") or line == "#")
    ]
    assert odd == []


@pytest.mark.parametrize("name", sorted(_optional()))
def test_documented_default_is_the_real_default(name: str) -> None:
    field = FIELDS.get(name)
    assert field is not None, f"{name} is not a setting"
    documented = _optional()[name]
    default = Settings.model_fields[field].default
    if documented == "":
        assert default is None, f"{name} has a default ({default!r}): show it in .env.example"
        return
    parsed = getattr(load_settings(env_file=None, **{field: documented}), field)
    assert parsed == default, (
        f"{name}: .env.example says {documented!r}, the default is {default!r}"
    )


def test_required_values_are_empty_and_marked_required() -> None:
    lines = _lines()
    for number, line in enumerate(lines):
        if match := _REQUIRED.match(line):
            assert match[2] == "", f"{match[1]} has a value in .env.example"
            comment = []
            for above in reversed(lines[:number]):
                if not above.startswith("#"):
                    break
                comment.append(above)
            assert any("Required" in c for c in comment), f"{match[1]} is not marked Required"


def test_serve_refuses_to_start_without_each_required_variable() -> None:
    filled = {name.lower(): value for name, value in _filled_in().items()}
    assert filled, ".env.example marks nothing required, yet serve needs its Slack settings"
    for missing in filled:
        settings = load_settings(env_file=None, **{k: v for k, v in filled.items() if k != missing})
        with pytest.raises(ConfigError, match=f"^{missing.upper()} is not set"):
            asyncio.run(serve(settings, ServeOptions()))


def test_the_copy_as_shipped_is_refused_and_once_filled_in_loads(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    shutil.copy(EXAMPLE, env)
    first = next(iter(_required()))
    with pytest.raises(ConfigError, match=f"^{first} is not valid"):
        load_settings(env_file=env)

    filled = _filled_in()
    text = env.read_text(encoding="utf-8")
    for name, value in filled.items():
        text = re.sub(f"^{name}=$", f"{name}={value}", text, flags=re.MULTILINE)
    env.write_text(text, encoding="utf-8")
    settings = load_settings(env_file=env)
    for name, value in filled.items():
        assert settings.secret(FIELDS[name]) == value
    # Everything else stays at its default: the optional lines are really commented out.
    defaults = Settings.model_construct()
    for name in set(FIELDS) - set(filled):
        assert getattr(settings, FIELDS[name]) == getattr(defaults, FIELDS[name]), name


def test_holds_no_secret() -> None:
    values = {**_required(), **_optional()}
    assert {name: values[name] for name in SECRETS if values.get(name)} == {}
    assert [line for line in _lines() if _SECRET_SHAPES.search(line)] == []
    assert {name: value for name, value in values.items() if _RANDOM_RUN.search(value)} == {}


def test_the_real_env_file_is_ignored_by_git() -> None:
    """The example says `.env` is ignored: it must be, since it holds the secrets."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run(
        ["git", "check-ignore", "--quiet", ".env"], cwd=ROOT, check=False, timeout=30
    )
    assert ignored.returncode == 0
