"""bench/: the generator writes deterministic, valid cluster modules, each with exactly the
one missing requirement it announces, and the runner's command line works. The benchmark
itself is not run here (bench/run.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
from generate import MISSING, cluster_for, generate  # noqa: E402


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_generator_is_deterministic_and_prefix_stable(tmp_path: Path) -> None:
    generate(str(tmp_path / "a"), 5)
    generate(str(tmp_path / "b"), 5)
    generate(str(tmp_path / "c"), 3)
    a, c = tree_bytes(tmp_path / "a"), tree_bytes(tmp_path / "c")
    assert a == tree_bytes(tmp_path / "b")
    assert {k: v for k, v in a.items() if k < "clusters/c0003"} == c
    assert len({v for k, v in a.items() if k.endswith("versions.tf")}) == 5  # no shared bytes


@pytest.mark.slow
def test_each_module_misses_exactly_the_requirement_it_announces(sglint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    generate(str(tmp_path / "mono"), 8)
    monkeypatch.chdir(tmp_path / "mono")
    result = sglint("check", ".", "--format", "json")
    report = result.json()
    assert result.code == 1 and report["diagnostics"] == []
    for index, root in enumerate(report["roots"]):
        cluster = cluster_for(7, index)
        findings = [f for f in report["findings"] if f["root"] == root["root"]]
        errors = [f["rule_id"] for f in findings if f["severity"] == "error"]
        assert errors == [MISSING[cluster.missing].split(":")[0]]
        assert [f["rule_id"] for f in findings if f["severity"] != "error"] == ["sg-cross-reference"]
    assert {cluster_for(7, i).missing for i in range(8)} == set(MISSING)


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
def test_terraform_fmt_accepts_the_generated_modules(tmp_path: Path) -> None:
    generate(str(tmp_path / "mono"), 4)
    result = subprocess.run(
        ["terraform", "fmt", "-check", "-recursive", "-diff", str(tmp_path / "mono")],
        capture_output=True, text=True, env={"TF_CLI_CONFIG_FILE": "/dev/null", "PATH": "/usr/bin:/usr/local/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout


def test_the_runner_has_a_command_line() -> None:
    for script in ("run.py", "generate.py", "pool.py", "diff.py"):
        result = subprocess.run([sys.executable, str(REPO / "bench" / script), "--help"], capture_output=True, text=True)
        assert result.returncode == 0 and "usage:" in result.stdout


def test_the_runner_reports_medians(tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO / "bench"))
    import run

    series = run.Series("cold", [run.Sample(s, 1024 * m, 1, "x") for s, m in ((0.3, 30), (0.1, 10), (0.2, 20))])
    assert (series.median, series.peak_rss_mb) == (0.2, 30)
    json.dumps(run.as_json({"10": {"cold": series}}, type("Args", (), {"rounds": 3})()))


def test_the_runner_adds_kops_to_the_corpus_trees(tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO / "bench"))
    import run

    args = type("Args", (), {"corpus": "", "workdir": str(tmp_path / "work")})()
    assert run.corpus_trees(args) == []
    args.corpus = str(tmp_path / "no-corpus")
    assert run.corpus_trees(args) == []
    if not (REPO.parent / "shared" / "corpus" / "kops-privatecalico").is_dir():
        pytest.skip("no corpus beside the clone (../shared/corpus)")
    args.corpus = str(REPO.parent / "shared" / "corpus")
    labels = [label for label, _ in run.corpus_trees(args)]
    assert labels == [run.EKS_ROOT, "eks example, modules installed", "kops-privatecalico"]


def test_the_runner_checks_the_targets() -> None:
    sys.path.insert(0, str(REPO / "bench"))
    import run

    def series(name: str, seconds: float, rss_mb: int = 50) -> run.Series:
        return run.Series(name, [run.Sample(seconds, rss_mb * 1024, 1, "x")])

    results = {
        "100": {"cold": series("cold", 2.0), "warm": series("warm", 0.5), "checkov": series("checkov", 30.0),
                "terraform fmt": series("terraform fmt", 0.4)},
        "1000": {"cold": series("cold", 19.0, 310)},
    }
    lines = run.targets(results).splitlines()
    assert lines[2] == "| 100 modules cold: checkov / sglint | 15.0 | >= 10x | met |"
    assert lines[3] == "| 100 modules warm: sglint / terraform fmt -check | 1.2 | <= 1.0 | NOT met |"
    assert lines[4] == "| terraform-aws-eks root cold: checkov / sglint | n/a | >= 15x | n/a |"
    assert lines[5] == "| 1000 modules cold / 100 modules cold | 9.5 | <= 10x | met |"
    assert lines[6] == "| 1000 modules cold: peak RSS (MB) | 310.0 | <= 300 | NOT met |"
