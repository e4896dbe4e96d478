"""Modal submissions parsed once, at the edge: typed values, or errors keyed by field."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.errors import InvalidInput, NotFound
from bot.flows import ids
from bot.flows.sharing import clean_note
from bot.flows.tasks import parse_tasks
from bot.slack.ids import Field

# share_requests.id is a 32-bit INTEGER on PostgreSQL: a larger id, looked up, is a database
# error (and an error id for the user) rather than the "no such request" it really is.
MAX_REQUEST_ID = 2**31 - 1


class FormErrors(InvalidInput):
    """What is wrong, per input block (Slack shows each under its field)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class ShareForm:
    """The share modal, valid."""

    pixel_id: str
    agency_id: str
    tasks: tuple[str, ...]
    note: str | None


def _element(view: Mapping[str, Any], block: Field) -> Mapping[str, Any]:
    state = view.get("state")
    values = state.get("values") if isinstance(state, Mapping) else None
    inputs = values.get(block.value) if isinstance(values, Mapping) else None
    element = inputs.get(Field.VALUE.value) if isinstance(inputs, Mapping) else None
    return element if isinstance(element, Mapping) else {}


def _text(view: Mapping[str, Any], block: Field) -> str:
    element = _element(view, block)
    selected = element.get("selected_option")
    value = selected.get("value") if isinstance(selected, Mapping) else element.get("value")
    return value.strip() if isinstance(value, str) else ""


def _choices(view: Mapping[str, Any], block: Field) -> list[str]:
    options = _element(view, block).get("selected_options")
    if not isinstance(options, list):
        return []
    return [
        o["value"] for o in options if isinstance(o, Mapping) and isinstance(o.get("value"), str)
    ]


def _typed(text: str, what: str) -> str:
    """Free text as a person types it: control characters (NUL above all, which PostgreSQL
    refuses to store) are refused here rather than failing later as an unexpected error."""
    for char in text:
        if char not in "\t\n\r" and unicodedata.category(char) == "Cc":
            raise InvalidInput(
                f"{what} contains a control character (U+{ord(char):04X}); remove it"
            )
    return text


def share_form(view: Mapping[str, Any]) -> ShareForm:
    """The share modal's values; `FormErrors` naming each bad field."""
    errors: dict[str, str] = {}
    values: dict[Field, Any] = {}
    checks: dict[Field, Callable[[], object]] = {
        Field.PIXEL: lambda: ids.meta_id(_text(view, Field.PIXEL), "the pixel id"),
        Field.AGENCY: lambda: ids.meta_id(_text(view, Field.AGENCY), "the agency business id"),
        Field.TASKS: lambda: tuple(t.value for t in parse_tasks(_choices(view, Field.TASKS))),
        Field.NOTE: lambda: clean_note(_typed(_text(view, Field.NOTE), "the note")),
    }
    for field, check in checks.items():
        try:
            values[field] = check()
        except InvalidInput as exc:
            errors[field.value] = str(exc)[:150]
    if errors:
        raise FormErrors(errors)
    return ShareForm(
        values[Field.PIXEL], values[Field.AGENCY], values[Field.TASKS], values[Field.NOTE]
    )


def decline_form(view: Mapping[str, Any]) -> tuple[int, str | None]:
    """The request id the decline modal was opened for, and the optional reason."""
    try:
        target = request_id(view.get("private_metadata"))
        reason = clean_note(_typed(_text(view, Field.REASON), "the reason"))
    except (InvalidInput, NotFound) as exc:
        # A forged private_metadata is refused in the form too: raising here would make
        # the submission fail with no word to the user (no response_url for modals).
        raise FormErrors({Field.REASON.value: str(exc)}) from None
    return target, reason


def request_id(value: object) -> int:
    """Our request id from a button value or private_metadata; nothing else is accepted, and
    an id no request can have is `NotFound` here, before any query."""
    if not (isinstance(value, str) and re.fullmatch(r"[0-9]{1,12}", value)):
        raise InvalidInput("that button or form does not belong to a pixelbot request")
    number = int(value)
    if not 1 <= number <= MAX_REQUEST_ID:
        raise NotFound(f"request #{number} does not exist")
    return number
