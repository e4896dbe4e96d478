"""The share-request state machine: every state reachable, finals are final, refusals name both."""

from __future__ import annotations

import pytest

from bot.flows.states import (
    FINAL,
    IN_FLIGHT,
    TRANSITIONS,
    IllegalTransition,
    ShareStatus,
    check_transition,
)


def test_every_state_has_a_row_and_is_reachable_from_submitting() -> None:
    assert set(TRANSITIONS) == set(ShareStatus)
    seen, frontier = {ShareStatus.SUBMITTING}, [ShareStatus.SUBMITTING]
    while frontier:
        for target in TRANSITIONS[frontier.pop()]:
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == set(ShareStatus)


def test_final_states_are_the_ones_a_user_would_call_done() -> None:
    assert {s.value for s in FINAL} == {"declined", "cancelled", "expired", "failed", "revoked"}


def test_every_in_flight_state_can_fall_back_or_settle() -> None:
    for status in IN_FLIGHT:
        assert TRANSITIONS[status], status
        assert not TRANSITIONS[status] <= IN_FLIGHT, status


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (ShareStatus.PENDING, ShareStatus.APPROVING),
        (ShareStatus.APPROVING, ShareStatus.ACTIVE),
        (ShareStatus.APPROVING, ShareStatus.EXPIRED),
        (ShareStatus.ACTIVE, ShareStatus.REVOKING),
        (ShareStatus.SUBMITTING, ShareStatus.FAILED),
    ],
)
def test_allowed_moves(current: ShareStatus, target: ShareStatus) -> None:
    check_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (ShareStatus.DECLINED, ShareStatus.APPROVING),
        (ShareStatus.ACTIVE, ShareStatus.APPROVING),
        (ShareStatus.APPROVING, ShareStatus.DECLINING),
        (ShareStatus.EXPIRED, ShareStatus.ACTIVE),
        (ShareStatus.SUBMITTING, ShareStatus.APPROVING),
    ],
)
def test_refused_moves_name_both_states(current: ShareStatus, target: ShareStatus) -> None:
    with pytest.raises(IllegalTransition) as caught:
        check_transition(current, target)
    assert str(caught.value) == f"a request that is {current} cannot become {target}"
