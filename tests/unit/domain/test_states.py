"""The task state machine: every edge, terminal states, the public mapping and Task.moved_to."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from lumagate.domain.channels import Channel
from lumagate.domain.request import GenerationRequest
from lumagate.domain.states import (
    ACTIVE_UPSTREAM_STATES,
    ALLOWED_TRANSITIONS,
    NON_TERMINAL_STATES,
    TERMINAL_STATES,
    InvalidTransition,
    TaskState,
    can_transition,
    check_transition,
)
from lumagate.domain.task import Task

Q, SG, SD, P, C, F, X = (
    TaskState.QUEUED,
    TaskState.SUBMITTING,
    TaskState.SUBMITTED,
    TaskState.PROCESSING,
    TaskState.COMPLETED,
    TaskState.FAILED,
    TaskState.CANCELLED,
)

# Written out by hand (not derived from ALLOWED_TRANSITIONS) so a changed edge fails here.
EXPECTED_EDGES = {
    (Q, SG),
    (Q, F),
    (Q, X),
    (SG, Q),
    (SG, SD),
    (SG, P),
    (SG, C),
    (SG, F),
    (SG, X),
    (SD, P),
    (SD, C),
    (SD, F),
    (SD, X),
    (P, C),
    (P, F),
    (P, X),
}
ALL_PAIRS = list(itertools.product(TaskState, TaskState))
ALLOWED = [(a, b) for a, b in ALL_PAIRS if a == b or (a, b) in EXPECTED_EDGES]
FORBIDDEN = [(a, b) for a, b in ALL_PAIRS if a != b and (a, b) not in EXPECTED_EDGES]

T0 = datetime(2024, 12, 22, 13, 38, 40, 139409, tzinfo=UTC)


def make_task(state: TaskState, **changes: object) -> Task:
    values: dict[str, object] = {
        "id": "4665a07c-7641-4809-a133-10786201bb56",
        "tenant_id": "tenant",
        "channel": Channel.DEFAULT,
        "dialect": "reseller",
        "request": GenerationRequest(prompt="cat dance"),
        "state": state,
        "created_at": T0,
        "updated_at": T0,
    }
    values.update(changes)
    return Task(**values)  # type: ignore[arg-type]


def test_state_values_are_the_stored_names() -> None:
    assert [s.value for s in TaskState] == [
        "queued",
        "submitting",
        "submitted",
        "processing",
        "completed",
        "failed",
        "cancelled",
    ]


def test_allowed_transitions_table_matches_the_expected_edges() -> None:
    table = {(a, b) for a, targets in ALLOWED_TRANSITIONS.items() for b in targets}
    assert table == EXPECTED_EDGES
    assert set(ALLOWED_TRANSITIONS) == set(TaskState)


@pytest.mark.parametrize(("current", "target"), ALLOWED, ids=lambda s: s.value)
def test_allowed_transition(current: TaskState, target: TaskState) -> None:
    assert can_transition(current, target)
    check_transition(current, target)  # does not raise


@pytest.mark.parametrize(("current", "target"), FORBIDDEN, ids=lambda s: s.value)
def test_forbidden_transition(current: TaskState, target: TaskState) -> None:
    assert not can_transition(current, target)
    with pytest.raises(InvalidTransition) as caught:
        check_transition(current, target)
    assert caught.value.current == current
    assert caught.value.target == target
    assert f"from {current.value} to {target.value}" in str(caught.value)


def test_terminal_states_have_no_way_out() -> None:
    assert {s for s in TaskState if s.is_terminal} == {C, F, X} == TERMINAL_STATES
    assert {Q, SG, SD, P} == NON_TERMINAL_STATES
    for terminal in TERMINAL_STATES:
        assert ALLOWED_TRANSITIONS[terminal] == frozenset()
        for other in TaskState:
            assert can_transition(terminal, other) == (other == terminal)


def test_every_non_terminal_state_can_fail_and_be_cancelled() -> None:
    for state in TaskState:
        if not state.is_terminal:
            assert can_transition(state, F)
            assert can_transition(state, X)


def test_only_failed_and_cancelled_end_without_a_video() -> None:
    assert {s for s in TaskState if s.ended_without_video} == {F, X}


def test_account_is_held_only_while_upstream_is_involved() -> None:
    assert {s for s in TaskState if s.holds_account} == {SG, SD, P} == ACTIVE_UPSTREAM_STATES
    assert not Q.holds_account


@pytest.mark.parametrize(
    ("state", "public"),
    [
        (Q, "pending"),
        (SG, "pending"),
        (SD, "pending"),
        (P, "processing"),
        (C, "completed"),
        (F, "failed"),
        (X, "failed"),  # the reseller vocabulary has no cancelled state
    ],
    ids=lambda s: s.value if isinstance(s, TaskState) else s,
)
def test_public_mapping(state: TaskState, public: str) -> None:
    assert state.public == public


def test_moved_to_processing_stamps_started_once() -> None:
    t1 = T0 + timedelta(seconds=5)
    moved = make_task(SD).moved_to(P, t1)
    assert moved.state == P
    assert moved.started_at == t1
    assert moved.updated_at == t1
    assert moved.finished_at is None
    done = moved.moved_to(C, t1 + timedelta(seconds=10))
    assert done.started_at == t1  # not overwritten
    assert done.finished_at == t1 + timedelta(seconds=10)
    assert done.is_terminal


def test_moved_to_keeps_an_existing_started_at() -> None:
    earlier = T0 + timedelta(seconds=1)
    moved = make_task(SG, started_at=earlier).moved_to(P, T0 + timedelta(seconds=9))
    assert moved.started_at == earlier


def test_moved_to_terminal_stamps_finished_and_leaves_original_alone() -> None:
    original = make_task(Q)
    t1 = T0 + timedelta(seconds=3)
    failed = original.moved_to(F, t1)
    assert failed.state == F
    assert failed.finished_at == t1
    assert failed.started_at is None  # never processed
    assert original.state == Q  # frozen copy semantics
    assert original.updated_at == T0
    assert failed.moved_to(F, t1 + timedelta(seconds=1)).finished_at == t1


def test_moved_to_cancelled_stamps_finished() -> None:
    t1 = T0 + timedelta(seconds=2)
    cancelled = make_task(P, started_at=T0).moved_to(X, t1)
    assert cancelled.is_terminal
    assert cancelled.finished_at == t1
    with pytest.raises(InvalidTransition):
        cancelled.moved_to(C, t1)


def test_moved_to_requeue_from_submitting() -> None:
    requeued = make_task(SG).moved_to(Q, T0 + timedelta(seconds=1))
    assert requeued.state == Q
    assert requeued.finished_at is None
    assert requeued.started_at is None


@pytest.mark.parametrize(("current", "target"), FORBIDDEN, ids=lambda s: s.value)
def test_moved_to_refuses_forbidden_edges(current: TaskState, target: TaskState) -> None:
    task = make_task(current)
    with pytest.raises(InvalidTransition):
        task.moved_to(target, T0 + timedelta(seconds=1))
