"""Measure where parsing in worker processes starts to pay: serial against a pool, cold.

For each size N it generates (once, under --workdir) a monorepo of N cluster modules with
bench/generate.py and runs `sglint check --no-cache` as a whole process, round after round,
alternating: serially (SGLINT_JOBS=1) and with a pool of --workers processes whatever the
batch's size (the size thresholds of calico_sglint/terraform/batch.py set to zero for the
run). The report gives the median wall and CPU times and the ratio; the threshold in
batch.py (PARALLEL_MIN_FILES, PARALLEL_MIN_BYTES) belongs where the ratio crosses 1.

    python bench/pool.py                        # N = 5, 10, 20, 30, 50, 100; 5 rounds
    python bench/pool.py --sizes 20,40 --rounds 9
"""

from __future__ import annotations

import argparse
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

# The CLI with a pool for any batch: what `SGLINT_JOBS=N` does above the thresholds.
FORCED_POOL = (
    "import sys\n"
    "from calico_sglint.terraform import batch\n"
    "batch.PARALLEL_MIN_FILES = batch.PARALLEL_MIN_BYTES = 0\n"
    "batch.BYTES_PER_WORKER = 1\n"
    "from calico_sglint.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def run_once(command: list[str], env: dict[str, str], cwd: str) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (the process and the workers it reaped) and the exit code."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    return wall, usage.ru_utime + usage.ru_stime, os.waitstatus_to_exitcode(status)


def tree_of(workdir: str, size: int, seed: int) -> str:
    """The generated monorepo of `size` modules (made once)."""
    tree = os.path.join(workdir, f"mono-{size}")
    marker = os.path.join(tree, ".generated")
    if not os.path.exists(marker) or open(marker).read() != f"{size} {seed}":
        shutil.rmtree(tree, ignore_errors=True)
        generate(tree, size, seed)
        with open(marker, "w") as handle:
            handle.write(f"{size} {seed}")
    return tree


def main(argv: list[str] | None = None) -> int:
    """Command line: generate, measure, report a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="5,10,20,30,50,100", help="module counts (default 5,10,20,30,50,100)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per size (default 5)")
    parser.add_argument("--workers", type=int, default=2, help="pool size (default 2)")
    parser.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "sglint-bench"),
                        help="where trees go (default: $TMPDIR/sglint-bench)")
    parser.add_argument("--python", default=sys.executable, help="the Python with calico-sglint installed")
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    args = parser.parse_args(argv)
    os.makedirs(args.workdir, exist_ok=True)
    env = dict(os.environ)
    lines = [
        f"Medians of {args.rounds} alternating rounds, `sglint check --no-cache`, whole process, "
        f"{os.cpu_count()} CPUs; pool of {args.workers} forced for every size.",
        "",
        "| modules | files | serial wall | pool wall | pool / serial | serial CPU | pool CPU |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size in (int(s) for s in args.sizes.split(",") if s):
        tree = tree_of(args.workdir, size, args.seed)
        files = sum(1 for _, _, names in os.walk(tree) for n in names if n.endswith((".tf", ".tfvars")))
        serial_cmd = [args.python, "-m", "calico_sglint", "check", ".", "--no-cache"]
        pool_cmd = [args.python, "-c", FORCED_POOL, "check", ".", "--no-cache"]
        samples: dict[str, list[tuple[float, float, int]]] = {"serial": [], "pool": []}
        for round_ in range(args.rounds):
            plan = [("serial", serial_cmd, dict(env, SGLINT_JOBS="1")),
                    ("pool", pool_cmd, dict(env, SGLINT_JOBS=str(args.workers)))]
            for name, command, run_env in plan if round_ % 2 == 0 else reversed(plan):
                samples[name].append(run_once(command, run_env, tree))
        wall = {k: statistics.median(s[0] for s in v) for k, v in samples.items()}
        cpu = {k: statistics.median(s[1] for s in v) for k, v in samples.items()}
        lines.append(
            f"| {size} | {files} | {wall['serial']:.2f} s | {wall['pool']:.2f} s | "
            f"{wall['pool'] / wall['serial']:.2f} | {cpu['serial']:.2f} s | {cpu['pool']:.2f} s |"
        )
        print(lines[-1], file=sys.stderr)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
