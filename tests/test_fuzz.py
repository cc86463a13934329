"""Fuzzing (tests/fuzzing.py): no input makes sglint crash, exit oddly or hang.

A bounded run is part of the normal suite; the long run is for local use:

    SGLINT_FUZZ_CASES=5000 SGLINT_FUZZ_EXAMPLES=1000 pytest -m fuzz tests/test_fuzz.py

A case that fails names its fixture file and seed; reproduce it with `Case(file, seed)` and
add the input as a regression fixture under tests/data/fuzz-regressions/<what-it-broke>/.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from conftest import write
from fuzzing import COMMANDS, REGRESSIONS, Case, cases, odd_modules, run

BOUNDED_CASES = 200  # a few hundred, under a minute on a busy CI machine


def _fuzz(selected: list[Case], tmp_path: Path, capsys) -> list[str]:  # type: ignore[no-untyped-def]
    """Each case runs one command (rotating), so every command sees every kind of mutation."""
    problems = []
    for index, case in enumerate(selected):
        directory = case.build(tmp_path / f"case-{case.seed}")
        problem = run(COMMANDS[index % len(COMMANDS)], directory, capsys)
        if problem is not None:
            problems.append(f"{case.file.relative_to(case.file.parents[1])} seed {case.seed}: {problem}")
    return problems


@pytest.mark.slow
def test_mutated_fixtures_never_crash(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    assert _fuzz(cases(BOUNDED_CASES), tmp_path, capsys) == []


_UNCHECKED = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


def _odd_case(files: dict[str, str], root: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    write(root, files)
    for command in COMMANDS:
        assert run(command, root, capsys) is None, files["main.tf"]


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=_UNCHECKED)
@given(files=odd_modules())
def test_valid_but_odd_terraform_never_crashes(files: dict[str, str], tmp_path_factory, capsys) -> None:  # type: ignore[no-untyped-def]
    _odd_case(files, tmp_path_factory.mktemp("odd"), capsys)


@pytest.mark.slow
@pytest.mark.fuzz
@settings(max_examples=int(os.environ.get("SGLINT_FUZZ_EXAMPLES", "300")), deadline=None, suppress_health_check=_UNCHECKED)
@given(files=odd_modules())
def test_long_odd_terraform_run(files: dict[str, str], tmp_path_factory, capsys) -> None:  # type: ignore[no-untyped-def]
    _odd_case(files, tmp_path_factory.mktemp("odd"), capsys)


@pytest.mark.parametrize("name", sorted(p.name for p in REGRESSIONS.iterdir()) if REGRESSIONS.is_dir() else [])
def test_regression_fixtures_found_by_fuzzing(name: str, tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import shutil

    target = tmp_path / name
    shutil.copytree(REGRESSIONS / name, target)
    monkeypatch.chdir(tmp_path)
    for command in COMMANDS:
        assert run(command, target, capsys) is None


@pytest.mark.slow
@pytest.mark.fuzz
def test_long_fuzz_run(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    count = int(os.environ.get("SGLINT_FUZZ_CASES", "2000"))
    monkeypatch.chdir(tmp_path)
    assert _fuzz(cases(count, first_seed=BOUNDED_CASES), tmp_path, capsys) == []
