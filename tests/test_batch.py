"""batch.py: the same findings, diagnostics and `sglint show` output whichever way files are
parsed (serially or in worker processes, fork or spawn, with or without the cache, cold or
warm, pruned or whole), on every fixture, every example and a generated monorepo; results
in request order, errors as values, identical files parsed once, when workers start."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES, FIXTURES, REPO, write

from calico_sglint.pipeline import CheckOptions, ReadOptions, check, read
from calico_sglint.render.jsonreport import report_json
from calico_sglint.render.show import show_json, show_text
from calico_sglint.source import InputError
from calico_sglint.terraform import batch
from calico_sglint.terraform.cache import open_cache

sys.path.insert(0, str(REPO / "bench"))
from generate import generate  # noqa: E402

TREES = sorted(str(p.relative_to(REPO)) for p in FIXTURES.iterdir() if p.is_dir()) + sorted(
    str(p.relative_to(REPO)) for p in EXAMPLES.iterdir() if p.is_dir()
)


def outputs(options: ReadOptions) -> tuple[Any, Any, str]:
    """What a user sees: the check report, the show JSON (with diagnostics), the show text."""
    result = read(options)
    report = report_json(check(CheckOptions(options)))
    return report, show_json(result.models, list(result.diagnostics)), show_text(result.models)


def ways(tmp_path: Path) -> dict[str, dict[str, Any]]:
    """ReadOptions changes for every way of parsing, against the reference (serial, whole,
    uncached: `workspace.parse_serially`)."""
    cold, warm = str(tmp_path / "cold"), str(tmp_path / "warm")
    return {
        "pruned": {"prune": True, "jobs": 1},
        "cache cold": {"cache_dir": cold, "jobs": 1},
        "cache warm": {"cache_dir": cold, "jobs": 1},
        "parallel": {"jobs": 2},
        "parallel pruned cold": {"jobs": 2, "prune": True, "cache_dir": warm},
        "parallel pruned warm": {"jobs": 2, "prune": True, "cache_dir": warm},
        "serial pruned warm": {"jobs": 1, "prune": True, "cache_dir": warm},
    }


@pytest.fixture
def always_parallel(monkeypatch: pytest.MonkeyPatch) -> None:
    """Worker processes for any batch, however small (normally only for large ones)."""
    monkeypatch.setattr(batch, "PARALLEL_MIN_FILES", 1)
    monkeypatch.setattr(batch, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(batch, "BYTES_PER_WORKER", 1)


@pytest.mark.slow
@pytest.mark.parametrize("tree", TREES)
def test_every_way_of_parsing_gives_the_same_results(tree: str, tmp_path: Path, in_repo, always_parallel) -> None:  # type: ignore[no-untyped-def]
    reference = ReadOptions(paths=(tree,))
    expected = outputs(reference)
    for name, changes in ways(tmp_path).items():
        assert outputs(replace(reference, **changes)) == expected, name


@pytest.mark.slow
def test_a_generated_monorepo_gives_the_same_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, always_parallel) -> None:  # type: ignore[no-untyped-def]
    generate(str(tmp_path / "mono"), 20)
    monkeypatch.chdir(tmp_path / "mono")
    reference = ReadOptions(paths=(".",))
    expected = outputs(reference)
    assert len(expected[0]["roots"]) == 20
    assert sum(1 for f in expected[0]["findings"] if f["severity"] == "error") == 20
    for name, changes in ways(tmp_path).items():
        assert outputs(replace(reference, **changes)) == expected, name


@pytest.mark.slow
def test_fork_and_spawn_workers_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, always_parallel) -> None:  # type: ignore[no-untyped-def]
    generate(str(tmp_path / "mono"), 3)
    monkeypatch.chdir(tmp_path / "mono")
    expected = outputs(ReadOptions(paths=(".",)))
    for method in ("fork", "spawn"):
        monkeypatch.setattr(batch, "_start_method", lambda method=method: method)
        assert outputs(ReadOptions(paths=(".",), jobs=2, prune=True)) == expected, method


@pytest.mark.slow
def test_the_cli_gives_the_same_report_every_way(sglint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, always_parallel) -> None:  # type: ignore[no-untyped-def]
    generate(str(tmp_path / "mono"), 5)
    monkeypatch.chdir(tmp_path / "mono")
    monkeypatch.setenv("SGLINT_CACHE_DIR", str(tmp_path / "cache"))
    reports = []
    for jobs, extra in (("1", ["--no-cache"]), ("2", ["--no-cache"]), ("2", []), ("1", []), ("2", [])):
        monkeypatch.setenv("SGLINT_JOBS", jobs)
        result = sglint("check", ".", "--format", "json", *extra)
        assert result.code == 1
        reports.append(result.stdout)
    assert len(set(reports)) == 1
    assert len(json.loads(reports[0])["roots"]) == 5


def test_no_worker_processes_means_parsing_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, always_parallel) -> None:  # type: ignore[no-untyped-def]
    generate(str(tmp_path / "mono"), 2)
    monkeypatch.chdir(tmp_path / "mono")
    expected = outputs(ReadOptions(paths=(".",)))

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(38, "Function not implemented")  # what a sandbox without semaphores says

    monkeypatch.setattr(batch, "_start_method", lambda: "fork")
    import multiprocessing.context

    monkeypatch.setattr(multiprocessing.context.ForkContext, "Pool", refuse)
    assert outputs(ReadOptions(paths=(".",), jobs=2)) == expected


def test_results_come_back_in_order_with_errors_as_values(tmp_path: Path, always_parallel) -> None:
    files = {f"m{i}/f{j}.tf": f'variable "v{i}_{j}" {{}}\n' for i in range(4) for j in range(3)}
    files["m1/bad.tf"] = "x = [\n"
    files["m2/bin.tf"] = "x = 1\n\x00"
    write(tmp_path, files)
    requests = [(str(tmp_path / name), name) for name in files] + [(str(tmp_path / "missing.tf"), "missing.tf")]
    for jobs in (1, 2):
        results = batch.parse_batch(requests, None, jobs)
        assert [r.path if not isinstance(r, InputError) else r.file for r in results] == [d for _, d in requests]
        errors = {r.file: r.line for r in results if isinstance(r, InputError)}
        assert errors == {"m1/bad.tf": 1, "m2/bin.tf": 2, "missing.tf": None}


def test_meanwhile_runs_once_while_workers_parse_and_never_without_them(tmp_path: Path, always_parallel) -> None:
    files = {f"m{i}/f.tf": f'variable "v{i}" {{}}\n' * (i + 1) for i in range(6)}
    write(tmp_path, files)
    requests = [(str(tmp_path / name), name) for name in files]
    for jobs, expected in ((2, ["meanwhile"]), (1, [])):
        calls: list[str] = []
        results = batch.parse_batch(requests, None, jobs, None, lambda: calls.append("meanwhile"))
        assert calls == expected
        shown = [[b.labels for b in r.body.blocks_of("variable")] for r in results]  # type: ignore[union-attr]
        assert shown == [[(f"v{i}",)] * (i + 1) for i in range(6)]


def test_largest_chunks_go_to_the_workers_first() -> None:
    """So that no worker is left parsing a large module while the other waits."""

    def module(*sizes: int) -> tuple[str, list[tuple[str, bytes, str]]]:
        return "key", [("digest", b"x" * size, "f.tf") for size in sizes]

    chunks = [[module(10)], [module(300, 200)], [module(30), module(5)], [module(200)]]
    assert batch._largest_first(chunks) == [1, 3, 2, 0]


def test_identical_files_are_parsed_once(tmp_path: Path) -> None:
    write(tmp_path, {"a/versions.tf": "terraform {}\n", "b/versions.tf": "terraform {}\n"})
    store = open_cache(str(tmp_path / "cache"))
    requests = [(str(tmp_path / "a/versions.tf"), "a/versions.tf"), (str(tmp_path / "b/versions.tf"), "b/versions.tf")]
    a, b = batch.parse_batch(requests, store, 1)
    assert a.body is b.body and (a.path, b.path) == ("a/versions.tf", "b/versions.tf")


def test_identical_modules_are_parsed_once_by_workers_too(tmp_path: Path, always_parallel) -> None:
    """Two installs of one registry module (.terraform/modules/a and .../b) parse once."""
    module = {"main.tf": 'resource "aws_security_group" "node" {}\n', "variables.tf": 'variable "name" {}\n'}
    write(tmp_path, {f"{d}/{name}": text for d in ("a", "b") for name, text in module.items()})
    requests = [(str(tmp_path / d / name), f"{d}/{name}") for d in ("a", "b") for name in module]
    store = open_cache(str(tmp_path / "cache"))
    results = batch.parse_batch(requests, store, 2)
    assert [r.path for r in results] == [d for _, d in requests]  # type: ignore[union-attr]
    assert results[0].body is results[2].body and results[1].body is results[3].body  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("jobs", "files", "size", "cpus", "expected"),
    [
        (None, 10, 10_000, 8, 1),  # a pre-commit run: never worth a pool
        (None, 1300, 1_400_000, 2, 2),  # the 100-module monorepo on 2 cores
        (None, 1300, 1_400_000, 1, 1),
        (None, 13000, 14_000_000, 16, 16),
        (None, 38, 378_000, 16, 3),  # the terraform-aws-eks module root: a worker per 96 KB
        (None, 130, 143_000, 2, 1),  # 10 bench modules: below 200 KB a pool does not pay
        (1, 13000, 14_000_000, 8, 1),
        (3, 13000, 14_000_000, 8, 3),
    ],
)
def test_worker_count(jobs: int | None, files: int, size: int, cpus: int, expected: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch, "available_cpus", lambda: cpus)
    assert batch.worker_count(jobs, files, size) == expected


@pytest.mark.parametrize(("value", "jobs"), [("", None), ("1", 1), ("4", 4), ("0", None), ("x", None), (" 2 ", 2)])
def test_jobs_from_env(value: str, jobs: int | None) -> None:
    assert batch.jobs_from_env({"SGLINT_JOBS": value}) == jobs
