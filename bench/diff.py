"""Time `sglint diff` on a generated monorepo where one module changed.

It generates N cluster modules (bench/generate.py) in a git repository, commits them, then
edits one module in the working tree (the VXLAN port of one rule map: a change that closes
paths) and runs, round after round:

  diff cold    `sglint diff main` with an empty cache directory
  diff warm    `sglint diff main` with the cache a previous run wrote
  check warm   `sglint check .` on the whole tree, warm: what a full check costs

Every run is a whole process; the report gives the median wall time and peak RSS, and what
`diff --format json` compared (the root modules evaluated, the closed paths). The diff
must evaluate only the changed module on each side: the run fails otherwise.

    python bench/diff.py                      # N = 100, 5 rounds
    python bench/diff.py --modules 1000 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from generate import generate  # noqa: E402  (bench/ is not a package)
from run import Series, run_once  # noqa: E402

CHANGED = "clusters/c0003/locals.tf"


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
    run_once([*sglint, "check", "."], dict(env, SGLINT_CACHE_DIR=warm), tree)  # fill for check
    series = {name: Series(name) for name in ("diff cold", "diff warm", "check warm")}
    for _ in range(args.rounds):
        cold = tempfile.mkdtemp(prefix="sglint-cold-", dir=workdir)
        series["diff cold"].samples.append(run_once([*sglint, "diff", "main"], dict(env, SGLINT_CACHE_DIR=cold), tree))
        shutil.rmtree(cold)
        series["diff warm"].samples.append(run_once([*sglint, "diff", "main"], dict(env, SGLINT_CACHE_DIR=warm), tree))
        series["check warm"].samples.append(run_once([*sglint, "check", "."], dict(env, SGLINT_CACHE_DIR=warm), tree))
    print(f"{args.modules} modules, {CHANGED} edited; diff compared {report['roots']}, "
          f"{len(closed)} closed paths; {args.rounds} rounds")
    for item in series.values():
        print(f"  {item.label:<11} {item.median:6.2f} s median   {item.peak_rss_mb:6.0f} MB peak")
    return 0


if __name__ == "__main__":
    sys.exit(main())
