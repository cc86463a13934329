"""The command line as platform engineers expect it from checkov, tflint and trivy (issue
#15): each test runs the exact command and asserts the exact output and exit code."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write


@pytest.mark.parametrize("command", ["check", "fix", "show", "graph"])
@pytest.mark.parametrize("extra", [[], ["--format", "json"]])
def test_a_wrong_path_prints_only_the_error(command: str, extra: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sglint) -> None:  # type: ignore[no-untyped-def]
    write(tmp_path, {"real/main.tf": 'resource "aws_security_group" "a" {}\n'})
    monkeypatch.chdir(tmp_path)
    if command == "fix" and extra:
        extra = ["--diff"]
    result = sglint(command, "real", "nowhere", *extra)
    assert (result.code, result.stdout, result.stderr) == (2, "", "nowhere: no such file or directory\n")


def test_a_baseline_matches_from_every_directory_of_the_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sglint) -> None:  # type: ignore[no-untyped-def]
    """Fingerprints key on the root's path in the repository and on files relative to the
    root, so a baseline written at the repository root matches in the module directory."""
    import json
    import shutil

    from conftest import EXAMPLES

    (tmp_path / ".git").mkdir()
    shutil.copytree(EXAMPLES / "typha-blocked", tmp_path / "envs" / "prod")
    main = tmp_path / "envs" / "prod" / "main.tf"
    main.write_text("# sglint:ignore=calico-typha\n" + main.read_text())  # no reason: a finding in a file
    monkeypatch.chdir(tmp_path)
    wrote = sglint("check", "envs/prod", "--write-baseline", "baseline.json")
    assert (wrote.code, wrote.stdout) == (0, "sglint: wrote 4 findings to the baseline baseline.json\n")
    prints = sorted(f["fingerprint"] for f in json.loads((tmp_path / "baseline.json").read_text())["findings"])
    sarif_prints = {}
    for cwd, path, baseline in [(".", "envs/prod", "baseline.json"), ("envs", "prod", "../baseline.json"),
                                ("envs/prod", ".", "../../baseline.json")]:
        monkeypatch.chdir(tmp_path / cwd)
        result = sglint("check", path, "--baseline", baseline)
        assert (result.code, result.stdout.splitlines()[-1]) == (0, "0 errors, 0 warnings (4 in the baseline)"), cwd
        report = sglint("check", path, "--format", "json").json()
        assert sorted(f["fingerprint"] for f in report["findings"]) == prints, cwd
        sarif = sglint("check", path, "--format", "sarif").json()
        sarif_prints[cwd] = sorted(r["partialFingerprints"]["calicoSglint/v1"] for r in sarif["runs"][0]["results"])
    assert sarif_prints["."] == sarif_prints["envs"] == sarif_prints["envs/prod"] == prints


def test_changed_files_mean_the_modules_they_affect(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sglint) -> None:  # type: ignore[no-untyped-def]
    """What pre-commit passes (changed files) -> the paths checked (calico_sglint.changes)."""
    from calico_sglint.changes import affected_paths

    (tmp_path / ".git").mkdir()
    sg = 'resource "aws_security_group" "a" {}\n'
    write(tmp_path, {
        "envs/prod/main.tf": sg, "envs/prod/prod.tfvars": "x = 1\n", "envs/prod/calico/pool.yaml": "kind: IPPool # calico\n",
        "envs/stage/main.tf": sg, "envs/.sglint.yaml": "fail_on: warning\n", "vars/prod.tfvars": "x = 1\n",
        "group_vars/k8s_cluster/k8s-net-calico.yml": "calico_network_backend: vxlan\n",
        "inventory/prod/group_vars/all": "calico_ipip_mode: Always\n",
        "app/deploy.yaml": "kind: Deployment\n", "calico.yaml": "kind: ConfigMap # calico-config\n",
    })
    monkeypatch.chdir(tmp_path)

    def paths(*changed: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        found = affected_paths(list(changed))
        return found.paths, found.unaffecting

    assert paths("envs/prod/main.tf", "envs/prod/prod.tfvars") == (("envs/prod/main.tf", "envs/prod/prod.tfvars"), ())
    assert paths("envs/.sglint.yaml") == (("envs",), ())
    assert paths("envs/prod/calico/pool.yaml") == (("envs/prod/main.tf",), ())  # the module above reads it
    assert paths("group_vars/k8s_cluster/k8s-net-calico.yml") == ((".",), ())
    assert paths("inventory/prod/group_vars/all") == ((".",), ())
    assert paths("calico.yaml", "envs/stage/main.tf") == ((".", "envs/stage/main.tf"), ())
    assert paths("app/deploy.yaml", "vars/prod.tfvars") == ((), ("app/deploy.yaml", "vars/prod.tfvars"))
    result = sglint("check", "app/deploy.yaml")
    assert (result.code, result.stdout, result.stderr) == (
        0, "", "sglint: nothing to check: no Terraform module is affected by app/deploy.yaml\n")


def test_the_job_summary_counts_the_root_modules_it_leaves_out(in_repo) -> None:  # type: ignore[no-untyped-def]
    """GitHub refuses a step summary over 1 MiB: root sections that do not fit are counted."""
    from calico_sglint.pipeline import CheckOptions, ReadOptions, check
    from calico_sglint.render.context import report_context
    from calico_sglint.render.markdown import render as markdown

    result = check(CheckOptions(ReadOptions(paths=("examples/typha-blocked", "examples/cluster-sg", "fixtures/check-exposed")), {}, None, ()))
    context = report_context(["examples", "fixtures/check-exposed"])
    whole = markdown(result, context)
    first = whole.index("### `examples/cluster-sg`")
    cut = markdown(result, context, limit=first + 400 + 10)
    assert cut.encode() == whole[:first].encode() + (
        "… and 2 more root modules not shown: GitHub limits a job summary to 1 MiB. The SARIF report "
        "and `sglint check` have every finding; `sglint graph` draws them.\n").encode()
    assert len(cut.encode()) <= first + 410



# --- long runs: layout, progress, wrapping and colour ------------------------------------


def on_terminal(args: list[str], stream: str, env: dict[str, str] | None = None) -> tuple[str, str]:
    """Run `sglint ARGS` with `stream` (stdout or stderr) on a pseudo-terminal 70 columns wide;
    return what the terminal showed and what the other stream printed."""
    import os
    import pty
    import subprocess
    import sys

    from conftest import REPO

    leader, follower = pty.openpty()
    full_env = {**os.environ, "COLUMNS": "70", "LINES": "40", "TERM": "xterm-256color", **(env or {})}
    for name in ("CI", "NO_COLOR", "GITHUB_ACTIONS"):
        if name not in (env or {}):
            full_env.pop(name, None)
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, stream: follower}
    process = subprocess.Popen([sys.executable, "-m", "calico_sglint", *args], cwd=REPO, env=full_env, **streams)  # type: ignore[call-overload]
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    other = (process.stderr if stream == "stdout" else process.stdout).read()
    process.wait(timeout=120)
    os.close(leader)
    return shown.decode("utf-8", "replace"), other.decode()


def test_findings_come_first_grouped_by_root_and_each_profile_once(sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    paths = ("examples/typha-blocked", "examples/cluster-sg", "fixtures/profile-vxlan")
    out = sglint("check", *paths).stdout.splitlines()
    assert out[0] == "examples/typha-blocked"
    assert out[1].startswith("  examples/typha-blocked/main.tf:21: error [calico-typha] aws_instance.worker")
    blocks = [line for line in out if line.startswith("Root module")]
    assert blocks == ["Root modules examples/typha-blocked, examples/cluster-sg, fixtures/profile-vxlan (3 with this profile)"]
    assert "  nodes: different in each root module (--verbose lists them)" in out
    verbose = sglint("check", *paths, "--verbose").stdout.splitlines()
    assert [line for line in verbose if line.startswith("Root module")] == [f"Root module {p}" for p in paths]
    quiet = sglint("check", *paths, "-q")
    assert quiet.code == 1
    assert [line.split(" aws_")[0] for line in quiet.stdout.splitlines()] == [
        "examples/typha-blocked",
        "  examples/typha-blocked/main.tf:21: error [calico-typha]",
        "  examples/typha-blocked/main.tf:21: warning [sg-cross-reference]",
        "  examples/typha-blocked/main.tf:27: error [calico-typha]",
        "",
        "2 errors, 1 warning",
    ]


@pytest.mark.slow
def test_progress_shows_on_a_terminal_only() -> None:
    shown, _ = on_terminal(["check", "examples/typha-blocked"], "stderr")
    assert "sglint: reading and checking examples/typha-blocked" in shown
    for args, env in ((["check", "examples/typha-blocked"], {"CI": "true"}),
                      (["check", "examples/typha-blocked", "--format", "json"], None),
                      (["check", "examples/typha-blocked", "-q"], None)):
        shown, out = on_terminal(args, "stderr", env)
        assert shown == "" and out, (args, env)


@pytest.mark.slow
def test_a_terminal_wraps_at_words_and_colours_only_the_severity() -> None:
    import re

    shown, _ = on_terminal(["check", "examples/typha-blocked"], "stdout")
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown).replace("\r\n", "\n")
    assert max(len(line) for line in plain.splitlines()) <= 70
    assert "  examples/typha-blocked/main.tf:21: error [calico-typha]\n      aws_instance.worker (aws_security_group.worker) cannot reach\n" in plain
    coloured = re.findall(r"\x1b\[([0-9;]*)m([^\x1b]*)\x1b\[0m", shown)
    assert [(code, text) for code, text in coloured if text in ("error", "warning")] == [
        ("1;31", "error"), ("1;33", "warning"), ("1;31", "error")]
    assert not any("cannot reach" in text for code, text in coloured if "31" in code)
    for env, args in (({"NO_COLOR": "1"}, []), ({}, ["--no-color"])):
        shown, _ = on_terminal(["check", "examples/typha-blocked", *args], "stdout", env)
        assert not re.search(r"\x1b\[[0-9;]*3[0-7]m", shown), (env, args)  # no foreground colour


# --- CLI conventions ---------------------------------------------------------------------


def test_short_flags_and_case_insensitive_choices(sglint, in_repo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "strict.yaml"
    config.write_text("disable: [calico-typha]\n")
    result = sglint("check", "examples/typha-blocked", "-c", str(config), "-q")
    assert (result.code, result.stdout.splitlines()[-1]) == (0, "0 errors, 1 warning")
    upper = sglint("check", "examples/typha-blocked", "--format", "SARIF", "--fail-on", "WARNING", "--encapsulation", "VxLan")
    assert upper.code == 1 and upper.json()["version"] == "2.1.0"
    assert sglint("graph", "examples/typha-blocked", "-f", "DOT").stdout.startswith("digraph sglint {")
    version = sglint("-V")
    assert (version.code, version.stdout.startswith("sglint ")) == (0, True)


def test_rule_selection_on_the_command_line(sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    """--enable-rule/--disable-rule, the family tflint users know (ruff's --select/--ignore
    would read like --no-ignore, which is about suppression comments)."""
    off = sglint("check", "examples/typha-blocked", "--disable-rule", "calico-typha", "--disable-rule", "sg-cross-reference", "-q")
    assert (off.code, off.stdout) == (0, "0 errors, 0 warnings\n")
    on = sglint("check", "examples/typha-blocked", "--no-typha", "--enable-rule", "calico-typha", "-q")
    assert on.code == 0  # a rule whose profile condition does not hold stays quiet when enabled
    unknown = sglint("check", "examples/typha-blocked", "--disable-rule", "calico-tyhpa")
    assert unknown.code == 2 and unknown.stdout == ""
    assert unknown.stderr.startswith("sglint: --enable-rule/--disable-rule: no rule 'calico-tyhpa'; known rules: calico-typha, ")


def test_skip_path_on_the_command_line_and_in_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sglint) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from conftest import EXAMPLES

    (tmp_path / ".git").mkdir()
    shutil.copytree(EXAMPLES / "typha-blocked", tmp_path / "legacy" / "old")
    shutil.copytree(EXAMPLES / "cluster-sg", tmp_path / "live")
    monkeypatch.chdir(tmp_path)
    assert sglint("check", ".", "-q").code == 1
    skipped = sglint("check", ".", "--skip-path", "legacy", "-q")
    assert (skipped.code, skipped.stdout) == (0, "0 errors, 0 warnings\n")
    assert sglint("check", ".", "--skip-path", "leg*/o*", "-q").code == 0
    (tmp_path / ".sglint.yaml").write_text("skip_paths: ['legacy/*']\n")
    assert (sglint("check", ".", "-q").code, sglint("graph", ".").stdout.count("aws_instance.master")) == (0, 0)
    monkeypatch.chdir(tmp_path / "legacy")  # config globs are relative to the config file
    nothing = sglint("check", ".", "-q")
    assert (nothing.code, nothing.stderr) == (2, "sglint: no Terraform files (*.tf) found in .\n")
    (tmp_path / ".sglint.yaml").write_text("skip_paths: legacy\n")
    bad = sglint("check", ".")
    assert (bad.code, bad.stderr) == (2, f"{tmp_path}/.sglint.yaml:1: skip_paths: must be a list of path globs "
                                         "(relative to this file's directory)\n")


@pytest.mark.parametrize(("args", "warning"), [
    (["-o", "sarif"], "sglint: warning: 'sarif' is a file name, not a format: writing the text report to it "
                      "(for sarif, use --format sarif -o FILE)"),
    (["-f", "json", "-o", "report.sarif"], "sglint: warning: report.sarif has the extension of sarif, but the report "
                                           "written to it is json (add --format sarif, or --also sarif=report.sarif)"),
    (["--also", "json=summary.md"], "sglint: warning: summary.md has the extension of markdown, but the report "
                                    "written to it is json (add --format markdown, or --also markdown=summary.md)"),
    (["-f", "sarif", "-o", "report.sarif"], None),
    (["-o", "report.txt", "--also", "junit=tests.xml"], None),
])
def test_an_output_file_named_like_another_format_is_warned_about(args: list[str], warning: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sglint) -> None:  # type: ignore[no-untyped-def]
    from conftest import EXAMPLES

    monkeypatch.chdir(tmp_path)
    result = sglint("check", str(EXAMPLES / "typha-blocked"), *args, "-q")
    assert result.code == 1
    assert result.stderr == (f"{warning}\n" if warning else "")


# --- help that reads finished ------------------------------------------------------------

COMMANDS = [["check"], ["fix"], ["diff"], ["show"], ["graph"], ["rules"], ["explain"], ["cache"], ["cache", "dir"],
            ["cache", "clear"], []]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "sglint")
def test_help_reads_finished(command: list[str], sglint, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import re

    monkeypatch.setenv("COLUMNS", "60")  # narrow: examples must still not break mid-command
    result = sglint(*command, "--help")
    assert result.code == 0 and "\\" not in result.stdout
    lines = result.stdout.splitlines()
    start = lines.index("  Examples:") + 2
    end = lines.index("", start)
    assert end > start and all(re.match(r"    (\w+=\S+ )?sglint ", line) for line in lines[start:end]), lines[start:end]
    if command and command[0] in ("check", "fix", "show", "graph", "diff"):
        base = " BASE" if command[0] == "diff" else ""
        assert f"Usage: sglint {command[0]} [OPTIONS]{base} [PATHS]..." in result.stdout
        arguments = " ".join(result.stdout.split("Arguments:")[1].split("Options:")[0].split())
        if base:
            assert arguments.startswith("BASE The git revision to compare with")
            arguments = arguments[arguments.index("[PATHS]"):]
        assert arguments == ("[PATHS]... Directories (walked recursively) or files (their module is read); "
                             "default: . (the working directory).")
    if command == ["show"]:
        assert "[default: text]" in " ".join(result.stdout.split())


def test_a_graph_file_named_for_another_format_is_warned_about(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sglint) -> None:  # type: ignore[no-untyped-def]
    from conftest import EXAMPLES

    monkeypatch.chdir(tmp_path)
    result = sglint("graph", str(EXAMPLES / "typha-blocked"), "-o", "sg.dot")
    assert (result.code, result.stderr) == (0, "sglint: warning: sg.dot has the extension of dot, but the report "
                                               "written to it is mermaid (add --format dot)\n")
    assert (tmp_path / "sg.dot").read_text().startswith("%%{init:")
    assert sglint("graph", str(EXAMPLES / "typha-blocked"), "-f", "dot", "-o", "sg.gv").stderr == ""


def test_a_fix_not_added_to_git_fails_the_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sglint) -> None:  # type: ignore[no-untyped-def]
    """`--require-tracked` (both pre-commit hooks): a file `sglint fix` created must be added."""
    import shutil
    import subprocess

    from conftest import EXAMPLES

    git = shutil.which("git")
    if git is None:
        pytest.skip("needs git")
    shutil.copytree(EXAMPLES / "typha-blocked", tmp_path / "infra")
    monkeypatch.chdir(tmp_path)
    subprocess.run([git, "init", "-q"], check=True)
    subprocess.run([git, "add", "-A"], check=True)
    wrote = sglint("fix", "infra/main.tf", "--exit-non-zero-on-fix", "--require-tracked")
    assert wrote.code == 1 and (tmp_path / "infra" / "calico_sglint.tf").is_file()
    note = ("infra/calico_sglint.tf: written by `sglint fix` and not added to git: run `git add "
            "infra/calico_sglint.tf`, or the commit leaves these rules out\n")
    for command in (["check", "infra/main.tf", "-q"], ["fix", "infra/main.tf", "--exit-non-zero-on-fix"]):
        result = sglint(*command, "--require-tracked")
        assert (result.code, result.stderr) == (1, note), command
    assert sglint("check", "infra/main.tf", "-q").code == 0  # without the flag, only findings count
    subprocess.run([git, "add", "infra/calico_sglint.tf"], check=True)
    assert sglint("check", "infra/main.tf", "-q", "--require-tracked").code == 0


def test_the_compact_form_is_one_line_per_finding(sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    result = sglint("check", "examples/typha-blocked", "--format", "compact")
    assert result.code == 1
    assert [line.split(" aws_")[0] for line in result.stdout.splitlines()] == [
        "examples/typha-blocked/main.tf:21: error [calico-typha]",
        "examples/typha-blocked/main.tf:21: warning [sg-cross-reference]",
        "examples/typha-blocked/main.tf:27: error [calico-typha]",
        "2 errors, 1 warning",
    ]
