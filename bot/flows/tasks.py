"""The tasks an agency may be permitted on a shared pixel (Meta's `permitted_tasks`)."""

from __future__ import annotations

from enum import StrEnum

from bot.errors import InvalidInput


class Task(StrEnum):
    """A permitted task, spelled as Meta's enum spells it."""

    ADVERTISE = "ADVERTISE"
    ANALYZE = "ANALYZE"
    UPLOAD = "UPLOAD"
    EDIT = "EDIT"


# Meta's own descriptions (Business Settings / the pixel-sharing guide).
TASK_HELP: dict[Task, str] = {
    Task.ADVERTISE: "Connect ad accounts to this dataset and use it for advertising",
    Task.ANALYZE: "View, analyze and advertise",
    Task.UPLOAD: "Upload website conversion data to this dataset",
    Task.EDIT: "Manage the dataset, edit settings, analyze and advertise (Meta allowlist only)",
}


def parse_tasks(words: list[str]) -> list[Task]:
    """Tasks from user words: case-insensitive, separated by spaces or commas, no repeats."""
    names = [part for word in words for part in word.replace(",", " ").split()]
    if not names:
        raise InvalidInput("name at least one task: " + ", ".join(Task))
    unknown = [n for n in names if n.upper() not in Task.__members__]
    if unknown:
        shown = ", ".join(repr(n[:20]) for n in unknown[:5])
        raise InvalidInput(f"unknown task {shown}; tasks are " + ", ".join(Task))
    return list(dict.fromkeys(Task(n.upper()) for n in names))
