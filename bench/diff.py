"""Time `sglint diff` on a generated monorepo where one module changed.

It generates N cluster modules (bench/generate.py) in a git repository, commits them, then
edits one module in the working tree (the VXLAN port of one rule map: a change that closes
paths) and runs, round after round:

  diff cold    `sglint diff main` with an empty cache directory
  check cold   `sglint check .` on the whole tree, empty cache: what a full first check costs
  diff warm    `sglint diff main` with the cache a previous run wrote
  check warm   `sglint check .` on the whole tree, warm

Every run is a whole process; the report gives the median wall time, the median CPU time
(user + system of the process tree: what a busy machine inflates least) and the peak RSS,
and what `diff --format json` compared (the root modules evaluated, the closed paths). The
diff must evaluate only the changed module on each side: the run fails otherwise.

    python bench/diff.py                      # N = 100, 5 rounds
    python bench/diff.py --modules 1000 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from generate import generate  # noqa: E402  (bench/ is not a package)
from run import Sample, Series  # noqa: E402

CHANGED = "clusters/c0003/locals.tf"


class Timed(Series):
    """A series that also keeps each run's CPU time."""

    def __init__(self, label: str) -> None:
        super().__init__(label)
        self.cpu: list[float] = []

    def run(self, command: list[str], env: dict[str, str], cwd: str) -> None:
        """One whole-process run: wall time, CPU time and peak RSS of its process tree."""
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        self.samples.append(Sample(time.perf_counter() - start, int(usage.ru_maxrss), os.waitstatus_to_exitcode(status), ""))
        self.cpu.append(usage.ru_utime + usage.ru_stime)


def git(tree: str, *args: str) -> None:
    subprocess.run(["git", *args], cwd=tree, check=True, capture_output=True)


def build(workdir: str, modules: int) -> str:
    """A repository of `modules` modules with one commit, and one module edited."""
    tree = os.path.join(workdir, f"diff-{modules}")
    shutil.rmtree(tree, ignore_errors=True)
    generate(tree, modules)
    git(tree, "init", "-q", "-b", "main")
    git(tree, "-c", "user.email=bench@example.com", "-c", "user.name=bench", "add", "-A")
    git(tree, "-c", "user.email=bench@example.com", "-c", "user.name=bench", "commit", "-q", "-m", "clusters")
    path = os.path.join(tree, CHANGED)
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text.replace("port = 4789 }", "port = 4790 }", 1))
    return tree


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modules", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args(argv)
    workdir = args.workdir or tempfile.mkdtemp(prefix="sglint-bench-diff-")
    tree = build(workdir, args.modules)
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    warm = tempfile.mkdtemp(prefix="sglint-warm-", dir=workdir)
    sglint = [args.python, "-m", "calico_sglint"]
    done = subprocess.run([*sglint, "diff", "main", "--format", "json"], cwd=tree, capture_output=True, text=True,
                          env=dict(env, SGLINT_CACHE_DIR=warm), check=False)
    report = json.loads(done.stdout)
    closed = [p for p in report["paths"] if p["change"] == "closed"]
    if done.returncode != 1 or report["roots"] != ["clusters/c0003"] or not closed:
        print(f"unexpected diff result: exit {done.returncode}, roots {report['roots']}", file=sys.stderr)
        return 1
    subprocess.run([*sglint, "check", "."], cwd=tree, env=dict(env, SGLINT_CACHE_DIR=warm), capture_output=True, check=False)
    series = {name: Timed(name) for name in ("diff cold", "check cold", "diff warm", "check warm")}
    for _ in range(args.rounds):
        for name, command in (("diff", ["diff", "main"]), ("check", ["check", "."])):
            cold = tempfile.mkdtemp(prefix="sglint-cold-", dir=workdir)
            series[f"{name} cold"].run([*sglint, *command], dict(env, SGLINT_CACHE_DIR=cold), tree)
            shutil.rmtree(cold)
            series[f"{name} warm"].run([*sglint, *command], dict(env, SGLINT_CACHE_DIR=warm), tree)
    print(f"{args.modules} modules, {CHANGED} edited; diff compared {report['roots']}, "
          f"{len(closed)} closed paths, {report['base']['files_from_git']} files read from git; {args.rounds} rounds")
    for item in series.values():
        print(f"  {item.label:<11} {item.median:6.2f} s wall  {statistics.median(item.cpu):6.2f} s CPU"
              f"  {item.peak_rss_mb:5.0f} MB peak  (median)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
