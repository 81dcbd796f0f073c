"""The suite's xdist units (tests/support/xdist_scope.py): a file and backend per unit, and the
units that start processes handed out before the quick ones."""

from __future__ import annotations

from pathlib import Path

from tests.support.xdist_scope import FileAndBackendScheduling, backend_of, weight

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


def test_files_marked_long_come_first_though_they_name_no_process_marker() -> None:
    chaos = weight(ROOT, "tests/acceptance/test_replicas_chaos.py", 1)  # servers via support
    load = weight(ROOT, "tests/acceptance/test_upstream_pool.py on sqlite", 1)
    crash = weight(ROOT, "tests/acceptance/test_upstream_pool_crash.py on sqlite", 1)
    assert chaos[1:4] < crash[1:4]  # what the markers alone say: chaos after the crash run
    deploy = weight(ROOT, "tests/acceptance/test_deploy.py", 1)
    assert chaos > load > deploy > crash  # the longest first, by the seconds marked


class _Config:
    """What the scheduler reads of pytest's config."""

    rootpath = ROOT

    class option:
        loadscopereorder = True

    def getvalue(self, name: str) -> object:
        return {"tx": ["2*popen"]}[name]


class _Node:
    """A worker that records the tests it is sent."""

    def __init__(self, name: str) -> None:
        self.gateway = type("Gateway", (), {"id": name})()
        self.shutting_down = False
        self.sent: list[list[int]] = []

    def send_runtest_some(self, indexes: list[int]) -> None:
        self.sent.append(indexes)

    def shutdown(self) -> None:
        self.shutting_down = True


def test_the_scheduler_hands_out_the_server_files_first() -> None:
    collection = [
        *(f"tests/unit/domain/test_states.py::test_{n}" for n in range(50)),
        "tests/integration/store/test_tasks.py::test_a[sqlite]",
        "tests/acceptance/test_first_video.py::test_video[sqlite]",
        "tests/acceptance/test_first_video.py::test_video[postgresql]",
    ]
    scheduler = FileAndBackendScheduling(_Config())
    nodes = [_Node("gw0"), _Node("gw1")]
    for node in nodes:
        scheduler.add_node(node)  # type: ignore[arg-type]
        scheduler.add_node_collection(node, collection)  # type: ignore[arg-type]
    scheduler.schedule()
    first_units = [collection[node.sent[0][0]] for node in nodes]
    assert all("test_first_video" in nodeid for nodeid in first_units)
    assert {nodeid.rsplit("[", 1)[1] for nodeid in first_units} == {"sqlite]", "postgresql]"}
