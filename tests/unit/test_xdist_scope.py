"""The suite's xdist units (tests/support/xdist_scope.py): a file and backend per unit, and the
units that start processes handed out before the quick ones."""

from __future__ import annotations

from pathlib import Path

from tests.support.xdist_scope import backend_of, weight

ROOT = Path(__file__).resolve().parents[2]


def test_the_backend_is_read_from_the_parameters() -> None:
    assert backend_of("tests/a.py::test_x[sqlite]") == "sqlite"
    assert backend_of("tests/a.py::test_x[postgresql-big]") == "postgresql"
    assert backend_of("tests/a.py::test_x[other]") is None
    assert backend_of("tests/a.py::test_x") is None


def test_server_level_units_come_before_in_process_ones_whatever_their_size() -> None:
    acceptance = weight(ROOT, "tests/acceptance/test_first_video.py on sqlite", 3)
    servers = weight(ROOT, "tests/integration/api/test_admin.py", 4)
    by_conftest = weight(ROOT, "tests/integration/api/console/test_pages.py", 4)
    in_process = weight(ROOT, "tests/integration/store/test_tasks.py on sqlite", 40)
    unit = weight(ROOT, "tests/unit/domain/test_states.py", 500)
    assert acceptance > servers > in_process > unit
    assert by_conftest > in_process  # its server comes from the folder's conftest.py
