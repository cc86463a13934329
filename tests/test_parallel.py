"""parallel.py: root modules evaluated and checked in forked workers give what one process
gives: the same results in the same order, and the same input errors."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from conftest import write

from calico_sglint import parallel
from calico_sglint.source import InputError

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers fork on Linux only")

CLUSTER = """
resource "aws_security_group" "control_plane" {{}}
resource "aws_security_group" "worker" {{}}

resource "aws_security_group_rule" "typha" {{
  type                     = "ingress"
  security_group_id        = aws_security_group.{target}.id
  source_security_group_id = aws_security_group.worker.id
  protocol                 = "tcp"
  from_port                = 5473
  to_port                  = 5473
}}

resource "aws_instance" "control_plane" {{
  vpc_security_group_ids = [aws_security_group.control_plane.id]
}}

resource "aws_instance" "worker" {{
  count                  = {workers}
  vpc_security_group_ids = [aws_security_group.worker.id]
}}
"""


def test_results_come_back_in_order_from_the_workers() -> None:
    items = list(range(40))
    assert parallel.map_roots(lambda n: (n, os.getpid()), items, None)[5][0] == 5
    pids = {pid for _, pid in parallel.map_roots(lambda n: (n, os.getpid()), items, 2)}
    assert os.getpid() not in pids and len(pids) >= 1
    assert [n for n, _ in parallel.map_roots(lambda n: (n, os.getpid()), items, 2)] == items


def test_one_job_or_few_roots_run_here() -> None:
    here = os.getpid()
    assert {pid for pid in parallel.map_roots(lambda n: os.getpid(), list(range(40)), 1)} == {here}
    few = list(range(parallel.PARALLEL_MIN_ROOTS - 1))
    assert {pid for pid in parallel.map_roots(lambda n: os.getpid(), few, 2)} == {here}


def test_an_input_error_in_a_worker_is_raised_here_with_its_file_and_line() -> None:
    def job(n: int) -> int:
        if n == 30:
            raise InputError("bad value", "envs/30/.sglint.yaml", 4)
        return n

    with pytest.raises(InputError) as raised:
        parallel.map_roots(job, list(range(40)), 2)
    assert str(raised.value) == "envs/30/.sglint.yaml:4: bad value"


@pytest.mark.parametrize("output_format", ["json", pytest.param("text", marks=pytest.mark.slow), pytest.param("sarif", marks=pytest.mark.slow)])
def test_a_monorepo_checked_in_workers_reports_what_one_process_reports(
    tmp_path: Path, sglint, monkeypatch: pytest.MonkeyPatch, output_format: str,  # type: ignore[no-untyped-def]
) -> None:
    roots = parallel.PARALLEL_MIN_ROOTS + 4
    for n in range(roots):
        write(tmp_path / f"envs/e{n:02d}", {"main.tf": CLUSTER.format(target="worker" if n % 3 else "control_plane",
                                                                       workers=n % 4 + 1)})
    write(tmp_path / "envs/e07", {".sglint.yaml": "profile:\n  typha: false\n"})
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SGLINT_JOBS", "1")
    one = sglint("check", "envs", "--no-cache", "-f", output_format)
    monkeypatch.setenv("SGLINT_JOBS", "2")
    workers = sglint("check", "envs", "--no-cache", "-f", output_format)
    assert (workers.code, workers.stdout, workers.stderr) == (one.code, one.stdout, one.stderr)
    assert one.code == 1 and "envs/e07" in one.stdout
