"""`make bench` writes .bench/latest.json: each figure's name -> {"value", "unit", "budget", "pass"};
a run of some modules (--only) replaces their figures and keeps the others (issue 12)."""

from __future__ import annotations

import json
import sys
import types

import bench.__main__ as bench_main
import pytest
from bench.common import Result


@pytest.fixture
def two_modules(tmp_path, monkeypatch):
    for name, results in {
        "bench.alpha_bench": [Result("alpha fast", 1.5, "ms", 2.0), Result("alpha info", 7.0, "MB", None)],
        "bench.beta_bench": [Result("beta slow", 3.0, "s", 1.0, "over")],
    }.items():
        module = types.ModuleType(name)
        module.run = lambda results=results: list(results)  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(bench_main, "MODULES", ["bench.alpha_bench", "bench.beta_bench"])
    monkeypatch.setattr(bench_main, "ROOT", tmp_path)
    monkeypatch.setattr(bench_main, "LATEST", tmp_path / "latest.json")
    return tmp_path / "latest.json"


def test_every_figure_in_latest_json(two_modules, capsys) -> None:
    assert bench_main.main([]) == 1  # one over budget
    data = json.loads(two_modules.read_text())
    assert data == {
        "alpha fast": {"value": 1.5, "unit": "ms", "budget": 2.0, "pass": True},
        "alpha info": {"value": 7.0, "unit": "MB", "budget": None, "pass": True},
        "beta slow": {"value": 3.0, "unit": "s", "budget": 1.0, "pass": False},
    }
    out = capsys.readouterr().out
    assert "OVER beta slow" in out and "1 over budget" in out and "load average" in out


def test_only_runs_one_module_and_keeps_the_other_figures(two_modules, monkeypatch) -> None:
    bench_main.main([])
    monkeypatch.setattr(sys.modules["bench.alpha_bench"], "run", lambda: [Result("alpha fast", 1.0, "ms", 2.0)])
    monkeypatch.setattr(sys.modules["bench.beta_bench"], "run", lambda: pytest.fail("beta was not asked for"))
    assert bench_main.main(["--only", "alpha"]) == 0
    data = json.loads(two_modules.read_text())
    assert data["alpha fast"]["value"] == 1.0 and data["beta slow"]["value"] == 3.0


def test_an_unknown_module_is_one_clear_line(two_modules) -> None:
    with pytest.raises(SystemExit, match="no module matches gamma"):
        bench_main.main(["--only", "gamma"])
