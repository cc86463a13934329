"""Time `sglint check` on generated monorepos, against checkov and `terraform fmt -check`.

For each size N it generates (once, under --workdir) a monorepo of N cluster modules with
bench/generate.py, then runs, round after round so that machine noise hits every tool
alike:

  sglint cold      empty cache directory (a first run: parses everything, writes the cache)
  sglint warm      the cache a previous run wrote
  sglint no-cache  `--no-cache`: parses everything, reads and writes nothing
  checkov          `checkov -d TREE --framework terraform --quiet --compact`, when installed
  terraform fmt    `terraform fmt -check -recursive TREE`, when installed

and the one-module check of the README's incident example (examples/typha-blocked). With the
corpus beside the clone (`../shared/corpus`, or --corpus DIR), also the terraform-aws-eks module
root and its self-managed-node-group example with `.terraform/modules` laid out as `terraform
init` would (bench/installed.py), and kops' Calico cluster: real public code, with the same
tools. Every run is a whole process; the report gives the median wall time, the ratios, and the peak RSS
(the largest process of the run's tree, as `/usr/bin/time -f %M` reports it, from
`wait4`). sglint's bytecode is compiled first, as pip does when it installs a package.
sglint's output must be the same cold, warm and without the cache, or the run fails.

    python bench/run.py                          # N = 10, 100, 1000; 5 rounds
    python bench/run.py --sizes 10,100 --rounds 3 --checkov /opt/checkov/bin/checkov
    python bench/run.py --json results.json --markdown results.md
    python bench/run.py --sizes 100 --corpus ''          # without the corpus trees
    python bench/run.py --sizes "" --checkov /work/ckv/bin/checkov   # the example and the corpus only

The report ends with the targets of issue #18, checked on this run's medians.
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from generate import generate  # noqa: E402  (bench/ is not a package)
from installed import eks_example, eks_module_copy  # noqa: E402

EXAMPLE = os.path.join(REPO, "examples", "typha-blocked")
CORPUS = os.path.join(os.path.dirname(REPO), "shared", "corpus")
EKS_ROOT = "terraform-aws-eks root"  # the row issue #18's target names


@dataclass
class Sample:
    """One whole-process run."""

    seconds: float
    max_rss_kb: int
    code: int
    output_hash: str
    cpu_seconds: float = 0.0  # user + system, the process and the workers it waited for


@dataclass
class Series:
    """The runs of one tool in one mode on one tree."""

    label: str
    samples: list[Sample] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def median_cpu(self) -> float:
        return statistics.median(s.cpu_seconds for s in self.samples)

    @property
    def peak_rss_mb(self) -> float:
        return max(s.max_rss_kb for s in self.samples) / 1024


def run_once(command: list[str], env: dict[str, str], cwd: str) -> Sample:
    """Run `command` to completion; wall time, peak RSS of its process tree, exit code."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        digest = hashlib.sha256(out.read()).hexdigest()[:12]
    return Sample(seconds, int(usage.ru_maxrss), process.returncode, digest, usage.ru_utime + usage.ru_stime)


def sglint_command(args: argparse.Namespace, target: str, *extra: str) -> list[str]:
    """The sglint invocation (the installed console script's module, same interpreter)."""
    return [args.python, "-m", "calico_sglint", "check", target, *extra]


def measure_tree(args: argparse.Namespace, tree: str, label: str, with_checkov: bool) -> dict[str, Series]:
    """Alternate every tool on `tree` for --rounds rounds."""
    base_env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    base_env.pop("SGLINT_JOBS", None)
    modes = [m for m in ("cold", "warm", "no-cache") if m in args.modes.split(",")]
    series = {name: Series(name) for name in modes}
    warm_dir = tempfile.mkdtemp(prefix="sglint-warm-", dir=args.workdir)
    if "warm" in modes:
        run_once(sglint_command(args, "."), dict(base_env, SGLINT_CACHE_DIR=warm_dir), tree)  # fill
    if with_checkov:
        series["checkov"] = Series("checkov")
    if args.terraform:
        series["terraform fmt"] = Series("terraform fmt")
    for round_ in range(args.rounds):
        cold_dir = tempfile.mkdtemp(prefix="sglint-cold-", dir=args.workdir)
        plan = [
            ("cold", sglint_command(args, "."), dict(base_env, SGLINT_CACHE_DIR=cold_dir)),
            ("warm", sglint_command(args, "."), dict(base_env, SGLINT_CACHE_DIR=warm_dir)),
            ("no-cache", sglint_command(args, ".", "--no-cache"), base_env),
        ]
        plan = [step for step in plan if step[0] in modes]
        if with_checkov:
            plan.append(("checkov", [args.checkov, "-d", ".", "--framework", "terraform", "--quiet",
                                     "--compact", "--skip-download"], base_env))
        if args.terraform:
            tf_env = dict(base_env, TF_CLI_CONFIG_FILE=os.devnull, CHECKPOINT_DISABLE="1")
            plan.append(("terraform fmt", [args.terraform, "fmt", "-check", "-recursive", "."], tf_env))
        order = plan if round_ % 2 == 0 else list(reversed(plan))
        for name, command, env in order:
            series[name].samples.append(run_once(command, env, tree))
            print(f"  {label} {name:<14} {series[name].samples[-1].seconds:7.3f} s", file=sys.stderr)
        shutil.rmtree(cold_dir, ignore_errors=True)
    shutil.rmtree(warm_dir, ignore_errors=True)
    outputs = {s.output_hash for name in modes for s in series[name].samples}
    if len(outputs) != 1:
        raise SystemExit(f"sglint's output on {label} differs between cold, warm and --no-cache runs")
    return series


def main(argv: list[str] | None = None) -> int:
    """Command line: generate, measure, report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100,1000", help="module counts (default 10,100,1000)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per size (default 5)")
    parser.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "sglint-bench"),
                        help="where trees and caches go (default: $TMPDIR/sglint-bench)")
    parser.add_argument("--python", default=sys.executable, help="the Python with calico-sglint installed")
    parser.add_argument("--checkov", default=shutil.which("checkov"), help="checkov executable (default: on PATH)")
    parser.add_argument("--checkov-max", type=int, default=100, help="largest N to run checkov on (default 100)")
    parser.add_argument("--terraform", default=shutil.which("terraform"), help="terraform executable (default: on PATH)")
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    parser.add_argument("--corpus", default=CORPUS, help="the real-world corpus (default ../shared/corpus; "
                        "skipped when absent; '' to leave it out)")
    parser.add_argument("--no-example", action="store_true", help="leave out the one-module example")
    parser.add_argument("--modes", default="cold,warm,no-cache",
                        help="the sglint runs to time (default cold,warm,no-cache)")
    parser.add_argument("--json", help="write the results as JSON here")
    parser.add_argument("--markdown", help="write the results table as Markdown here")
    args = parser.parse_args(argv)
    os.makedirs(args.workdir, exist_ok=True)
    package = os.path.join(REPO, "calico_sglint")
    compileall.compile_dir(package, quiet=1)  # what pip does at install time
    sizes = [int(s) for s in args.sizes.split(",") if s]
    results: dict[str, dict[str, Series]] = {}
    if not args.no_example:
        results["1 (example)"] = measure_example(args)
    for size in sizes:
        tree = os.path.join(args.workdir, f"mono-{size}")
        marker = os.path.join(tree, ".generated")
        if not os.path.exists(marker) or open(marker).read() != f"{size} {args.seed}":
            shutil.rmtree(tree, ignore_errors=True)
            generate(tree, size, args.seed)
            with open(marker, "w") as handle:
                handle.write(f"{size} {args.seed}")
        with_checkov = bool(args.checkov) and size <= args.checkov_max
        results[str(size)] = measure_tree(args, tree, f"N={size}", with_checkov)
    for label, tree in corpus_trees(args):
        results[label] = measure_tree(args, tree, label, bool(args.checkov))
    table = markdown(results, args) + "\n\n" + targets(results)
    print(table)
    if args.markdown:
        with open(args.markdown, "w") as handle:
            handle.write(table + "\n")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(as_json(results, args), handle, indent=2)
    return 0


def corpus_trees(args: argparse.Namespace) -> list[tuple[str, str]]:
    """The terraform-aws-eks module root and its example with modules installed, built once
    under --workdir from the corpus, and kops' Calico cluster as published; none when the
    corpus is absent."""
    if not args.corpus or not os.path.isdir(os.path.join(args.corpus, "terraform-aws-eks")):
        return []
    base = os.path.join(args.workdir, "corpus")
    if not os.path.isdir(base):
        eks_module_copy(args.corpus, os.path.join(base, "terraform-aws-eks"))
        eks_example(args.corpus, base)
    trees = [
        (EKS_ROOT, os.path.join(base, "terraform-aws-eks")),
        ("eks example, modules installed", os.path.join(base, "self-managed-node-group")),
    ]
    kops = os.path.join(args.corpus, "kops-privatecalico")
    return trees + ([("kops-privatecalico", kops)] if os.path.isdir(kops) else [])


def targets(results: dict[str, dict[str, Series]]) -> str:
    """Issue #18's targets, each met or not on this run's medians (n/a: not measured)."""
    def median(row: str, name: str) -> float | None:
        return results[row][name].median if row in results and name in results[row] else None

    def line(text: str, value: float | None, goal: str, met: bool | None) -> str:
        shown = "n/a" if value is None else f"{value:.1f}"
        verdict = "n/a" if met is None else ("met" if met else "NOT met")
        return f"| {text} | {shown} | {goal} | {verdict} |"

    def ratio(a: float | None, b: float | None) -> float | None:
        return a / b if a is not None and b else None

    cold_100 = ratio(median("100", "checkov"), median("100", "cold"))
    warm_fmt = ratio(median("100", "warm"), median("100", "terraform fmt"))
    eks = ratio(median(EKS_ROOT, "checkov"), median(EKS_ROOT, "cold"))
    scale = ratio(median("1000", "cold"), median("100", "cold"))
    rss = results["1000"]["cold"].peak_rss_mb if "cold" in results.get("1000", {}) else None
    rows = [
        "| target | value | goal | |",
        "|---|---:|---|---|",
        line("100 modules cold: checkov / sglint", cold_100, ">= 10x", None if cold_100 is None else cold_100 >= 10),
        line("100 modules warm: sglint / terraform fmt -check", warm_fmt, "<= 1.0", None if warm_fmt is None else warm_fmt <= 1),
        line(f"{EKS_ROOT} cold: checkov / sglint", eks, ">= 15x", None if eks is None else eks >= 15),
        line("1000 modules cold / 100 modules cold", scale, "<= 10x", None if scale is None else scale <= 10),
        line("1000 modules cold: peak RSS (MB)", rss, "<= 300", None if rss is None else rss <= 300),
    ]
    return "\n".join(rows)


def measure_example(args: argparse.Namespace) -> dict[str, Series]:
    """The one-module check of the incident example, whole process."""
    base_env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    warm_dir = tempfile.mkdtemp(prefix="sglint-warm-", dir=args.workdir)
    run_once(sglint_command(args, EXAMPLE), dict(base_env, SGLINT_CACHE_DIR=warm_dir), REPO)
    series = {name: Series(name) for name in ("cold", "warm", "no-cache")}
    if args.checkov:
        series["checkov"] = Series("checkov")
    rounds = max(args.rounds, 9)
    for round_ in range(rounds):
        cold_dir = tempfile.mkdtemp(prefix="sglint-cold-", dir=args.workdir)
        plan = [
            ("cold", sglint_command(args, EXAMPLE), dict(base_env, SGLINT_CACHE_DIR=cold_dir)),
            ("warm", sglint_command(args, EXAMPLE), dict(base_env, SGLINT_CACHE_DIR=warm_dir)),
            ("no-cache", sglint_command(args, EXAMPLE, "--no-cache"), base_env),
        ]
        if args.checkov:
            plan.append(("checkov", [args.checkov, "-d", EXAMPLE, "--framework", "terraform", "--quiet",
                                     "--compact", "--skip-download"], base_env))
        for name, command, env in (plan if round_ % 2 == 0 else list(reversed(plan))):
            series[name].samples.append(run_once(command, env, REPO))
        shutil.rmtree(cold_dir, ignore_errors=True)
    shutil.rmtree(warm_dir, ignore_errors=True)
    return series


def markdown(results: dict[str, dict[str, Series]], args: argparse.Namespace) -> str:
    """The results as a Markdown table: medians, ratios to sglint cold, peak RSS."""
    lines = [
        f"Medians of {args.rounds} alternating rounds (9 for the example), whole process, "
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}.",
        "",
        "| tree (modules) | sglint cold | sglint warm | sglint --no-cache | checkov | terraform fmt -check "
        "| checkov / sglint cold | peak RSS sglint (cold) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, series in results.items():
        cells = [size]
        for name in ("cold", "warm", "no-cache", "checkov", "terraform fmt"):
            cells.append(f"{series[name].median:.2f} s" if name in series else "n/a")
        ratio = series["checkov"].median / series["cold"].median if "checkov" in series and "cold" in series else None
        cells.append(f"{ratio:.1f}x" if ratio else "n/a")
        cells.append(f"{series['cold'].peak_rss_mb:.0f} MB" if "cold" in series else "n/a")
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "CPU seconds (user + system, with worker processes; medians): on a shared machine the",
        "steadier measure of the work each tool does.",
        "",
        "| tree (modules) | sglint cold | sglint warm | sglint --no-cache | checkov | terraform fmt -check |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for size, series in results.items():
        cells = [size] + [
            f"{series[name].median_cpu:.2f} s" if name in series else "n/a"
            for name in ("cold", "warm", "no-cache", "checkov", "terraform fmt")
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def as_json(results: dict[str, dict[str, Series]], args: argparse.Namespace) -> dict[str, object]:
    """Every sample, for later analysis."""
    return {
        "rounds": args.rounds,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "results": {
            size: {
                name: {
                    "median_s": s.median,
                    "median_cpu_s": s.median_cpu,
                    "peak_rss_mb": s.peak_rss_mb,
                    "seconds": [x.seconds for x in s.samples],
                    "cpu_seconds": [x.cpu_seconds for x in s.samples],
                    "exit_codes": sorted({x.code for x in s.samples}),
                }
                for name, s in series.items()
            }
            for size, series in results.items()
        },
    }


if __name__ == "__main__":
    sys.exit(main())
