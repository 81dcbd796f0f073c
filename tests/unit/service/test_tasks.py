"""Public state names (what lists filter by) to the engine states behind them."""

from __future__ import annotations

import pytest

from lumagate.domain.errors import InvalidRequest
from lumagate.domain.states import TaskState
from lumagate.service.tasks import engine_states


def test_pending_names_every_state_before_processing() -> None:
    assert set(engine_states(("pending",))) == {
        TaskState.QUEUED,
        TaskState.SUBMITTING,
        TaskState.SUBMITTED,
    }
    assert engine_states(("completed", "failed")) == (
        TaskState.COMPLETED,
        TaskState.FAILED,
        TaskState.CANCELLED,  # shown as failed in the reseller vocabulary
    )
    assert engine_states(()) == ()


def test_an_unknown_name_is_a_400_naming_state() -> None:
    with pytest.raises(InvalidRequest) as raised:
        engine_states(("failed", "done"))
    assert raised.value.field == "state" and "'done'" in raised.value.message
