"""The world file's format (YAML, or the same structure as JSON), as pydantic models.

Each model refuses unknown keys; each value type fails with a sentence a person writing a
world file can act on (the loader puts the file and the field's path before it). What one
entry cannot check alone (ids unique across the world, references to other businesses,
pixels and ad accounts) the loader checks while it builds the `World`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator
from pydantic_core import PydanticCustomError

from bot.sandbox.variants import parse_variants
from bot.sandbox.world import PENDING, REQUEST_STATUSES, TASKS

_ID = re.compile(r"\d{15,16}")
# When a file gives no time: fixed, so that a world loads the same on every run.
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


def _problem(sentence: str) -> PydanticCustomError:
    # Passed as context: a sentence quoting the bad value may contain braces.
    return PydanticCustomError("world_file", "{sentence}", {"sentence": sentence})


def _graph_id(value: object) -> str:
    # YAML reads unquoted ids as ints; accept them, Meta's ids are numeric strings anyway.
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not _ID.fullmatch(text):
        raise _problem(f"expected a numeric id of 15-16 digits, got {value!r}")
    return text


def _account_id(value: object) -> str:
    # Ad accounts may be written as Graph addresses them (act_<id>) or bare.
    return _graph_id(value.removeprefix("act_") if isinstance(value, str) else value)


def _text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _problem("expected a non-empty string")
    return value


def _token(value: object) -> str:
    token = _text(value)
    if any(c.isspace() for c in token):
        raise _problem("a token cannot contain spaces")
    return token


def _flag(value: object) -> bool:
    # Stricter than pydantic's bool, which would read "no" or 0 as False.
    if not isinstance(value, bool):
        raise _problem(f"expected true or false, got {value!r}")
    return value


def _time(value: object) -> datetime:
    # YAML reads unquoted timestamps as datetimes; strings go through ISO-8601 only.
    stamp = value
    if isinstance(value, str):
        try:
            stamp = datetime.fromisoformat(value)
        except ValueError:
            stamp = None
    if not isinstance(stamp, datetime):
        raise _problem(f"expected an ISO-8601 time, got {value!r}")
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _tasks(value: object) -> list[str]:
    if not isinstance(value, list) or not value or any(t not in TASKS for t in value):
        raise _problem(f"tasks must be a non-empty list of {', '.join(TASKS)}, got {value!r}")
    return [str(task) for task in value]


def _budget(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise _problem(f"expected a positive integer, got {value!r}")
    return value


def _status(value: object) -> str:
    if not isinstance(value, str) or value not in REQUEST_STATUSES:
        raise _problem(f"expected one of {', '.join(REQUEST_STATUSES)}, got {value!r}")
    return value


def _some_businesses(value: list[BusinessEntry]) -> list[BusinessEntry]:
    if not value:
        raise _problem("at least one business is required")
    return value


def _two_businesses(value: list[str]) -> list[str]:
    if len(set(value)) != 2 or len(value) != 2:
        raise _problem("a partnership is a list of two business ids")
    return value


GraphId = Annotated[str, PlainValidator(_graph_id)]
AccountId = Annotated[str, PlainValidator(_account_id)]
Text = Annotated[str, PlainValidator(_text)]
Token = Annotated[str, PlainValidator(_token)]
Flag = Annotated[bool, PlainValidator(_flag)]
Time = Annotated[datetime, PlainValidator(_time)]
Tasks = Annotated[list[str], PlainValidator(_tasks)]


def _variants(value: object) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("a list of variant names")
    return parse_variants(value)


class Entry(BaseModel):
    """A mapping of the file: only the keys its model declares."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SettingsEntry(Entry):
    """`settings`: no app secret means no appsecret_proof is needed."""

    app_secret: Text | None = None
    edit_allowlisted: Flag = False
    # Meta's Limited tier: 300 + 40 x active ads per hour; usage headers are computed from it.
    hourly_call_budget: Annotated[int, PlainValidator(_budget)] = 300
    # Readings of Meta its documentation leaves open (bot/sandbox/variants.py).
    variants: Annotated[frozenset[str], PlainValidator(_variants)] = frozenset()


class AgencyEntry(Entry):
    """A business a pixel is shared with, and its tasks."""

    business: GraphId
    tasks: Tasks


class LinkEntry(Entry):
    """A business's ad account linked to a pixel (`POST /{pixel}/shared_accounts`)."""

    business: GraphId
    account: AccountId


class PixelEntry(Entry):
    """A pixel, owned by the business it is listed under."""

    id: GraphId
    name: Text
    creation_time: Time = EPOCH
    last_fired_time: Time | None = None
    is_unavailable: Flag = False
    agencies: list[AgencyEntry] = Field(default_factory=list)
    linked_accounts: list[LinkEntry] = Field(default_factory=list)


class AdAccountEntry(Entry):
    """An ad account, owned by the business it is listed under; `users` may use it too."""

    id: AccountId
    name: Text
    users: list[GraphId] = Field(default_factory=list)


class BusinessEntry(Entry):
    """A business with its (fake) tokens and what it owns."""

    id: GraphId
    name: Text
    tokens: list[Token] = Field(default_factory=list)
    expired_tokens: list[Token] = Field(default_factory=list)
    ad_accounts: list[AdAccountEntry] = Field(default_factory=list)
    pixels: list[PixelEntry] = Field(default_factory=list)


class AssetEntry(Entry):
    """A pixel of a sharing request, with the tasks asked for."""

    pixel: GraphId
    tasks: Tasks


class RequestEntry(Entry):
    """A sharing request (BusinessAgreement) from a pixel owner to another business."""

    id: GraphId
    requester: GraphId = Field(alias="from")
    recipient: GraphId = Field(alias="to")
    status: Annotated[str, PlainValidator(_status)] = PENDING
    created_time: Time = EPOCH
    assets: list[AssetEntry]


class WorldFile(Entry):
    """A whole world file."""

    settings: SettingsEntry = SettingsEntry()
    businesses: Annotated[list[BusinessEntry], AfterValidator(_some_businesses)]
    partners: list[Annotated[list[GraphId], AfterValidator(_two_businesses)]] = Field(
        default_factory=list
    )
    requests: list[RequestEntry] = Field(default_factory=list)


def keys_at(location: tuple[int | str, ...]) -> list[str]:
    """The keys the mapping at `location` (a validation error's `loc`) may have."""
    model: type[BaseModel] | None = WorldFile
    for part in location:
        if model is None:
            break
        if isinstance(part, str):  # an int indexes the list the previous key named
            fields = {field.alias or name: field for name, field in model.model_fields.items()}
            model = _model_in(fields[part].annotation) if part in fields else None
    if model is None:
        return []
    return sorted(field.alias or name for name, field in model.model_fields.items())


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next((m for a in get_args(annotation) if (m := _model_in(a)) is not None), None)
