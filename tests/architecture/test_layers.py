"""The layer rule of docs/architecture.md, read off the installed package's import graph.

drivers <- engine <- store <- {ui, link, face, update} <- runtime <- harness <- cli

Every import form counts: module level, inside functions, under TYPE_CHECKING, relative.
A module may import its own layer and the layers the rule lets it see; no two modules may
import each other, directly or round a longer loop.
"""

from __future__ import annotations

import sys

import pytest

from tests.architecture.import_graph import Graph, layer_of, load_graph

# what each layer may import besides itself
ALLOWED: dict[str, frozenset[str]] = {
    "drivers": frozenset(),
    "fixtures": frozenset({"drivers"}),
    "base": frozenset(),  # myna_reader.daemon itself, daemon/version.py, daemon/errors.py
    "engine": frozenset({"base", "drivers"}),
    "store": frozenset({"base", "engine"}),
    "ui": frozenset({"base", "engine"}),
    "link": frozenset({"base", "engine", "store", "drivers"}),
    "face": frozenset({"base", "engine", "drivers"}),
    "update": frozenset({"base", "engine", "store"}),
    "runtime": frozenset({"base", "engine", "store", "ui", "link", "face", "update", "drivers"}),
    "harness": frozenset({"base", "engine", "store", "ui", "link", "face", "update", "runtime",
                          "drivers", "fixtures"}),
    "cli": frozenset({"base", "engine", "store", "ui", "link", "face", "update", "runtime",
                      "harness", "drivers", "fixtures"}),
}


@pytest.fixture(scope="module")
def graph() -> Graph:
    return load_graph()


def test_every_module_has_a_layer(graph: Graph) -> None:
    assert len(graph.modules) > 100  # the whole package was read, not an empty folder
    unplaced = [m for m in graph.modules if layer_of(m) is None]
    assert unplaced == []


def test_no_import_against_the_layer_rule(graph: Graph) -> None:
    wrong = []
    for source, targets in graph.edges.items():
        mine = layer_of(source)
        assert mine is not None
        for target, line in targets.items():
            theirs = layer_of(target)
            assert theirs is not None, target
            if theirs != mine and theirs not in ALLOWED[mine]:
                wrong.append(f"{graph.paths[source]}:{line}: {mine} imports {theirs} ({target})")
    assert wrong == [], "\n".join(wrong)


def test_no_import_cycle_between_modules(graph: Graph) -> None:
    cycles = graph.cycles()
    assert cycles == [], "\n".join(" -> ".join(c) for c in cycles)


def test_the_engine_uses_the_standard_library_only(graph: Graph) -> None:
    foreign = []
    for source, names in graph.external.items():
        if layer_of(source) != "engine":
            continue
        foreign += [f"{source}: {name}" for name in names
                    if name.split(".")[0] not in sys.stdlib_module_names]
    assert foreign == []


def test_ui_sees_the_engine_only_through_its_public_surface(graph: Graph) -> None:
    inside = [f"{graph.paths[s]}:{line}: {t}" for s, targets in graph.edges.items()
              if layer_of(s) != "engine" for t, line in targets.items()
              if t.startswith("myna_reader.daemon.engine.")]
    assert inside == []


def test_the_update_health_check_does_not_load_doctor(graph: Graph) -> None:
    reached = graph.reachable("myna_reader.daemon.runtime.self_check")
    assert "myna_reader.daemon.runtime.doctor" not in reached
    assert "myna_reader.daemon.runtime.checks" in reached  # the walk itself works
