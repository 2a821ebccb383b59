"""The graph reader itself, on a small tree written here: it must see every import form."""

from __future__ import annotations

from pathlib import Path

from tests.architecture.import_graph import load_graph


def _tree(root: Path, files: dict[str, str]) -> dict[str, Path]:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return {"myna_reader.daemon": root}


def test_function_level_type_checking_and_relative_imports_are_edges(tmp_path: Path) -> None:
    roots = _tree(tmp_path, {
        "__init__.py": "",
        "engine/__init__.py": "from myna_reader.daemon.engine.model import State\n",
        "engine/model.py": "import typing\nif typing.TYPE_CHECKING:\n"
                           "    from myna_reader.daemon.engine.views import View\n",
        "engine/views.py": "def f():\n    from . import model\n",
        "runtime/__init__.py": "",
        "runtime/runner.py": "from ..engine import State\nimport json\n",
    })
    graph = load_graph(roots)
    assert graph.edges["myna_reader.daemon.engine.model"] == {"myna_reader.daemon.engine.views": 3}
    assert graph.edges["myna_reader.daemon.engine.views"] == {"myna_reader.daemon.engine.model": 2}
    assert graph.edges["myna_reader.daemon.runtime.runner"] == {"myna_reader.daemon.engine": 1}
    assert graph.external["myna_reader.daemon.runtime.runner"] == {"json"}
    assert graph.cycles() == [["myna_reader.daemon.engine.model",
                               "myna_reader.daemon.engine.views"]]


def test_a_longer_loop_is_one_cycle(tmp_path: Path) -> None:
    roots = _tree(tmp_path, {
        "__init__.py": "",
        "a.py": "from myna_reader.daemon import b\n",
        "b.py": "from myna_reader.daemon.c import x\n",
        "c.py": "def g():\n    import myna_reader.daemon.a\n",
        "d.py": "from myna_reader.daemon import a\n",
    })
    assert load_graph(roots).cycles() == [["myna_reader.daemon.a", "myna_reader.daemon.b",
                                           "myna_reader.daemon.c"]]
