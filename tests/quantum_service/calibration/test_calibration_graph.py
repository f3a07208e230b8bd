"""The calibration DAG: topological order, downstream planning, readiness checks."""

from __future__ import annotations

import pytest

from quantum_service.calibration.graph import CalibrationGraph, CalibrationNode, default_graph
from quantum_service.drivers.fleet import superconducting_grid, trapped_ion_chain
from quantum_service.errors import FailedPreconditionError


@pytest.fixture
def graph() -> CalibrationGraph:
    caps, _ = superconducting_grid("sc-g", rows=2, cols=2)
    return default_graph(caps)


def _assert_dependencies_first(graph: CalibrationGraph, tasks) -> None:
    seen = set()
    for task in tasks:
        for dep in graph.dependencies(task):
            assert dep not in tasks or dep in seen, f"{dep} must run before {task}"
        seen.add(task)


def test_default_graph_order_and_pairs(graph):
    names = [n.name for n in graph.nodes]
    assert names == ["readout", "rabi", "ramsey", "t1", "t2_echo", "rb_1q", "cphase", "xeb_2q"]
    assert graph.pairs == ((0, 1), (0, 2), (1, 3), (2, 3))
    _assert_dependencies_first(graph, graph.tasks())
    assert graph.dependencies(("cphase", (0, 1))) == [("ramsey", 0), ("ramsey", 1)]


def test_plan_reruns_stale_nodes_and_descendants_only(graph):
    plan = graph.plan([("ramsey", 2)])
    assert plan == [("ramsey", 2), ("cphase", (0, 2)), ("cphase", (2, 3))]
    assert graph.plan([("t1", 2)]) == [("t1", 2), ("t2_echo", 2)]
    assert graph.plan([("cphase", (1, 3))]) == [("cphase", (1, 3))]
    # characterisation nodes run when stale themselves, after their dependencies
    assert graph.plan([("rabi", 1), ("rb_1q", 1)]) == [
        ("rabi", 1), ("ramsey", 1), ("rb_1q", 1), ("cphase", (0, 1)), ("cphase", (1, 3))]
    assert graph.plan([]) == []


def test_check_ready_refuses_a_node_whose_dependency_is_not_fresh(graph):
    fresh = set(graph.tasks()) - {("rabi", 1)}
    with pytest.raises(FailedPreconditionError, match="rabi"):
        graph.check_ready(("ramsey", 1), fresh)
    graph.check_ready(("ramsey", 0), fresh)


def test_invalid_graphs_are_rejected():
    with pytest.raises(ValueError, match="cycle"):
        CalibrationGraph([CalibrationNode("a", "qubit", ("b",)),
                          CalibrationNode("b", "qubit", ("a",))], qubit_count=1, pairs=())
    with pytest.raises(ValueError, match="unknown"):
        CalibrationGraph([CalibrationNode("a", "qubit", ("x",))], qubit_count=1, pairs=())


def test_ion_graph_skips_slow_decays_and_covers_all_pairs():
    caps, _ = trapped_ion_chain("ion-g", qubit_count=4)
    graph = default_graph(caps)
    assert [n.name for n in graph.nodes] == ["readout", "rabi", "ramsey", "rb_1q", "ms_angle",
                                             "xeb_2q"]
    assert len(graph.pairs) == 6
