"""The e2e bot fixtures, reused: hostile tests drive the same real app."""

from tests.e2e.conftest import bot as bot  # fixture, reused
from tests.e2e.conftest import make_bot as make_bot  # fixture, needed by `bot`
