"""The GitHub Action (action.yml) run for real: each step's script with bash, in a temp
workspace, with the environment a runner gives a composite action, and `${{ }}` expressions
substituted the way Actions does. Then the annotations, the job summary, the SARIF and the
exit code it produced.

The install step really runs `pip install "$GITHUB_ACTION_PATH"`, offline: the test creates
the step's virtual environment first (the step reuses one that exists) without pip and with a
.pth file that appends this interpreter's site-packages, and passes `--no-deps
--no-build-isolation --no-index` through the `pip-args` input. So the action's own directory
is built and installed into a fresh environment, while its dependencies come from the
test's. `GITHUB_ACTION_PATH` is a copy of the repository's package files, because pip builds
in the source tree (build/, *.egg-info) and the checkout must stay clean.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import site
import subprocess
import sys
import sysconfig
import threading
import venv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import EXAMPLES, FIXTURES, REPO
from plan_scenarios import typha_incident
from test_diagram import TYPHA_MERMAID
from test_diff import TYPHA_ALL_NODES, TYPHA_WORKERS_ONLY, Repo, cluster_tf
from test_formats import SARIF_VALIDATOR

pytestmark = pytest.mark.slow  # each test runs the Action's steps in real shells, one installs a venv

ACTION = yaml.safe_load((REPO / "action.yml").read_text())
OFFLINE_PIP = "--no-deps --no-build-isolation --no-index"
EXPRESSION = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")


@dataclass
class ActionRun:
    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str
    workspace: Path


def evaluate(expression: str, inputs: dict[str, str], steps: dict[str, dict[str, str]], env: dict[str, str]) -> str:
    """The value of the few expressions action.yml uses, as Actions would substitute them."""
    parts = expression.split(".")
    if parts[0] == "inputs" and len(parts) == 2:
        return inputs[parts[1]]
    if parts[0] == "steps" and len(parts) == 4 and parts[2] == "outputs":
        return steps.get(parts[1], {}).get(parts[3], "")
    if expression == "github.action_path":
        return env["GITHUB_ACTION_PATH"]
    if expression == "runner.temp":
        return env["RUNNER_TEMP"]
    raise AssertionError(f"the test does not know how Actions evaluates ${{{{ {expression} }}}}")


def substitute(text: str, inputs: dict[str, str], steps: dict[str, dict[str, str]], env: dict[str, str]) -> str:
    return EXPRESSION.sub(lambda m: evaluate(m.group(1), inputs, steps, env), text)


def read_outputs(path: Path) -> dict[str, str]:
    """`name=value` lines of a GITHUB_OUTPUT file."""
    outputs = {}
    for line in path.read_text().splitlines():
        name, _, value = line.partition("=")
        outputs[name] = value
    return outputs


def offline_venv(path: Path) -> None:
    """A virtual environment without pip that sees this interpreter's packages after its own."""
    venv.create(path, with_pip=False, symlinks=os.name != "nt")
    purelib = sysconfig.get_paths(vars={"base": str(path), "platbase": str(path)})["purelib"]
    ours = dict.fromkeys([*site.getsitepackages(), sysconfig.get_paths()["purelib"]])
    Path(purelib, "zz_parent_site_packages.pth").write_text("\n".join(ours) + "\n")


def action_copy(target: Path) -> Path:
    """What `actions/checkout` of the action's repository gives: the files pip needs."""
    target.mkdir()
    for name in ("action.yml", "pyproject.toml", "README.md", "constraints.txt"):
        shutil.copy(REPO / name, target / name)
    for package in ("calico_sglint", "rules", "action"):
        shutil.copytree(REPO / package, target / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return target


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A runner's directories with the action installed by its own install step."""
    base = tmp_path_factory.mktemp("runner")
    temp = base / "runner-temp"
    temp.mkdir()
    offline_venv(temp / "calico-sglint-venv")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(base),
        "RUNNER_TEMP": str(temp),
        "GITHUB_ACTION_PATH": str(action_copy(base / "action")),
        "GITHUB_ACTIONS": "true",
        "CI": "true",
    }
    install = ACTION["runs"]["steps"][0]
    assert install["id"] == "install"
    result = run_step(install, inputs(**{"pip-args": OFFLINE_PIP, "python": sys.executable}), {}, env, base)
    assert result.returncode == 0, result.stderr
    sglint = read_outputs(base / "output-install")["sglint"]
    assert Path(sglint).is_file()
    installed = subprocess.run([str(Path(sglint).parent / "python"), "-c",
                                "import calico_sglint; print(calico_sglint.__file__)"],
                               capture_output=True, text=True, check=True, cwd=base).stdout
    assert installed.startswith(str(temp / "calico-sglint-venv")), installed  # not the checkout
    return {**env, "SGLINT_INSTALLED": sglint}


def inputs(**given: str) -> dict[str, str]:
    """Every input of action.yml: its default, or the value given."""
    values = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
    unknown = set(given) - set(values)
    assert not unknown, f"action.yml has no inputs {unknown}"
    return {**values, **given}


def run_step(
    step: dict[str, Any], values: dict[str, str], steps: dict[str, dict[str, str]], env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """Run one `run:` step as the runner does: `bash --noprofile --norc -eo pipefail FILE`."""
    assert step["shell"] == "bash"
    assert "${{" not in step["run"], "inputs must reach scripts through env:, not ${{ }} in run:"
    output = cwd / f"output-{step['id']}"
    output.write_text("")
    script = cwd / f"step-{step['id']}.sh"
    script.write_text(step["run"])
    step_env = {name: substitute(str(value), values, steps, env) for name, value in step.get("env", {}).items()}
    full_env = {**env, **step_env, "GITHUB_OUTPUT": str(output)}
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                          cwd=cwd, env=full_env, capture_output=True, text=True, timeout=300)


def run_action(runner: dict[str, str], workspace: Path, event: dict[str, str] | None = None, **given: str) -> ActionRun:
    """Every step after the install, in the workspace, with the install step's outputs and
    the runner's `event` variables (GITHUB_EVENT_NAME, ...). A failed step skips the next
    ones unless they run `if: always() && ...` (the install step succeeded); the run fails
    with the first failure."""
    summary = workspace.parent / f"{workspace.name}-summary.md"
    summary.write_text(given.pop("earlier_summary", ""))
    env = {**runner, **(event or {}), "GITHUB_WORKSPACE": str(workspace), "GITHUB_STEP_SUMMARY": str(summary)}
    env.pop("SGLINT_INSTALLED")
    steps = {"install": {"sglint": runner["SGLINT_INSTALLED"]}}
    values = inputs(**given)
    stdout = stderr = ""
    code = 0
    for step in ACTION["runs"]["steps"][1:]:
        if "uses" in step:  # actions/cache: the runner restores and saves; nothing to run here
            continue
        if code and not str(step.get("if", "")).startswith("always() &&"):
            break
        done = run_step(step, values, steps, env, workspace)
        stdout, stderr, code = stdout + done.stdout, stderr + done.stderr, code or done.returncode
        steps[step["id"]] = read_outputs(workspace / f"output-{step['id']}")
    outputs = {name: substitute(spec["value"], values, steps, env) for name, spec in ACTION["outputs"].items()}
    return ActionRun(code, stdout, stderr, outputs, summary.read_text(), workspace)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A checked-out repository with the typha-blocked example."""
    root = tmp_path / "workspace"
    shutil.copytree(EXAMPLES / "typha-blocked", root / "examples" / "typha-blocked")
    (root / ".git").mkdir()
    return root


TYPHA_ANNOTATIONS = [
    "::error file=examples/typha-blocked/main.tf,line=21,endLine=25,"
    "title=calico-typha%3A Typha (TCP 5473) between every pair of nodes::"
    "aws_instance.worker (aws_security_group.worker) cannot reach aws_instance.master "
    "(aws_security_group.master) on tcp/5473: no ingress rule on aws_security_group.master admits "
    "tcp/5473 from aws_security_group.worker%0A%0AHow to fix: Add an ingress rule on "
    "aws_security_group.master for tcp/5473 from aws_security_group.worker (`sglint fix` writes it). "
    "Nearest existing rules: master admits aws_security_group.worker on tcp/6443, udp/4789 only "
    "(examples/typha-blocked/main.tf:33).",
    "::warning file=examples/typha-blocked/main.tf,line=21,endLine=25,"
    "title=sg-cross-reference%3A Pairs of security groups granting each other through separate rules::"
    "aws_security_group.master and aws_security_group.worker admit each other through 4 separate rules "
    "(2 on master, 2 on worker); every new port must be opened in both places, and one is easily "
    "forgotten%0A%0AHow to fix: Put every node in one cluster security group with a self rule for all "
    "traffic (protocol -1, self = true).",
    "::error file=examples/typha-blocked/main.tf,line=27,endLine=31,"
    "title=calico-typha%3A Typha (TCP 5473) between every pair of nodes::"
    "aws_instance.master (aws_security_group.master) cannot reach aws_instance.worker "
    "(aws_security_group.worker) on tcp/5473: no ingress rule on aws_security_group.worker admits "
    "tcp/5473 from aws_security_group.master%0A%0AHow to fix: Add an ingress rule on "
    "aws_security_group.worker for tcp/5473 from aws_security_group.master (`sglint fix` writes it). "
    "Nearest existing rules: worker allows tcp/5473 only from self (examples/typha-blocked/main.tf:84).",
    "sglint: 2 errors, 1 warning",
]


def test_the_action_annotates_summarises_writes_sarif_and_fails(runner, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    run = run_action(runner, workspace, path="examples/typha-blocked", earlier_summary="# Earlier step\n")
    assert run.code == 1
    assert run.stdout.splitlines() == TYPHA_ANNOTATIONS
    assert run.outputs == {"exit-code": "1", "sarif-file": "sglint.sarif", "diff-exit-code": ""}
    summary = run.summary
    assert summary.startswith(
        "# Earlier step\n## calico-sglint\n\n**2 errors, 1 warning** in 1 root module (`examples/typha-blocked`).")
    assert "| Severity | Rule | Location | Message |\n|---|---|---|---|\n| error | `calico-typha` | " \
           "`examples/typha-blocked/main.tf:21` | aws_instance.worker" in summary
    assert f"```mermaid\n{TYPHA_MERMAID}```\n" in summary
    sarif = json.loads((workspace / "sglint.sarif").read_text())
    SARIF_VALIDATOR.validate(sarif)
    results = sarif["runs"][0]["results"]
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
             r["locations"][0]["physicalLocation"]["region"]) for r in results] == [
        ("calico-typha", "examples/typha-blocked/main.tf", {"startLine": 21, "endLine": 25}),
        ("sg-cross-reference", "examples/typha-blocked/main.tf", {"startLine": 21, "endLine": 25}),
        ("calico-typha", "examples/typha-blocked/main.tf", {"startLine": 27, "endLine": 31}),
    ]
    assert sarif["runs"][0]["automationDetails"] == {"id": "calico-sglint/examples/typha-blocked/"}


@pytest.mark.parametrize(("fail_on", "code"), [("never", 0), ("error", 1), ("warning", 1)])
def test_the_job_fails_per_fail_on(fail_on: str, code: int, runner, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    run = run_action(runner, workspace, path="examples/typha-blocked", **{"fail-on": fail_on})
    assert (run.code, run.outputs["exit-code"]) == (code, str(code))


def test_a_clean_module_passes_with_a_summary_and_empty_sarif(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "clean"
    shutil.copytree(EXAMPLES / "cluster-sg", root / "infra")
    run = run_action(runner, root, path="infra", **{"sarif-file": "reports/sglint.sarif"})
    assert run.code == 0
    assert run.stdout == "sglint: 0 errors, 0 warnings\n"
    assert "No findings: every required path is open and nothing is exposed." in run.summary
    assert json.loads((root / "reports" / "sglint.sarif").read_text())["runs"][0]["results"] == []
    assert run.outputs["sarif-file"] == "reports/sglint.sarif"


def test_annotations_summary_and_sarif_can_be_switched_off(runner, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    run = run_action(runner, workspace, path="examples/typha-blocked", annotations="false",
                     summary="false", **{"sarif-file": ""})
    assert run.code == 1
    assert "::error" not in run.stdout
    assert "examples/typha-blocked/main.tf:21: error [calico-typha]" in run.stdout
    assert run.summary == ""
    assert not (workspace / "sglint.sarif").exists()
    assert run.outputs == {"exit-code": "1", "sarif-file": "", "diff-exit-code": ""}


def test_profile_inputs_become_flags(runner, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    # Typha off removes both errors; IPIP switches BGP and IP-in-IP on, which are missing.
    off = run_action(runner, workspace, path="examples/typha-blocked", typha="false", **{"sarif-file": ""})
    assert "calico-typha" not in off.stdout and off.code == 0
    ipip = run_action(runner, workspace, path="examples/typha-blocked", encapsulation="IPIP", typha="false")
    rules = {r["ruleId"] for r in json.loads((workspace / "sglint.sarif").read_text())["runs"][0]["results"]}
    assert (ipip.code, rules) == (1, {"calico-bgp", "calico-ipip", "sg-cross-reference"})


def test_a_plan_input_checks_the_plan(runner, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    typha_incident().write(workspace / "tfplan.json")
    run = run_action(runner, workspace, path="examples/typha-blocked", plan="tfplan.json", **{"sarif-file": ""})
    assert run.code == 1
    assert run.stdout.splitlines() == TYPHA_ANNOTATIONS


def test_inputs_are_data_never_shell_code(runner, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    marker = workspace / "pwned"
    for path in (f"examples/typha-blocked $(touch {marker})", f"examples/typha-blocked;touch {marker}",
                 f"examples/typha-blocked `touch {marker}`"):
        run = run_action(runner, workspace, path=path, config=f"$(touch {marker})")
        assert run.code == 2
        assert not marker.exists()


def test_bad_inputs_exit_2(runner, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    run = run_action(runner, workspace, path="examples/typha-blocked", bgp="maybe")
    assert run.code == 2
    assert "the input bgp must be true, false or empty" in run.stderr
    run = run_action(runner, workspace, path="examples/typha-blocked", **{"fail-on": "sometimes"})
    assert run.code == 2
    assert "Traceback" not in run.stderr


def test_no_script_inlines_an_expression() -> None:
    for step in ACTION["runs"]["steps"]:
        if "uses" in step:
            assert step["uses"] == "actions/cache@v4"
            continue
        assert "${{" not in step["run"]
        assert step["shell"] == "bash"
    assert ACTION["runs"]["using"] == "composite"
    documented = {name for name, spec in ACTION["inputs"].items() if spec.get("description")}
    assert documented == set(ACTION["inputs"])


def test_the_documented_workflow_is_complete_and_pinned() -> None:
    text = (REPO / "docs" / "github-actions.md").read_text()
    block = re.search(r"```yaml\n(.*?)```", text, re.S)
    assert block is not None
    workflow = yaml.safe_load(block.group(1))
    assert workflow[True]["pull_request"]["paths"][:2] == ["**/*.tf", "**/*.tfvars"]  # YAML 1.1: `on` is True
    assert workflow["permissions"] == {"contents": "read", "actions": "read", "security-events": "write"}
    steps = workflow["jobs"]["sglint"]["steps"]
    assert steps[0]["uses"].startswith("actions/checkout@")
    ours = steps[1]
    assert re.fullmatch(r"calico-sglint/calico-sglint@[0-9a-f]{40}", ours["uses"])
    assert set(ours["with"]) <= set(ACTION["inputs"])
    upload = steps[2]
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["if"].startswith("always()")
    assert upload["with"]["sarif_file"] == f"${{{{ steps.{ours['id']}.outputs.sarif-file }}}}"
    assert "sarif-file" in ACTION["outputs"]


def test_the_readme_links_the_actions_guide() -> None:
    assert "(docs/github-actions.md)" in (REPO / "README.md").read_text()


def test_vars_baseline_and_extra_args_inputs(runner, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    sized = run_action(runner, workspace, path="examples/typha-blocked", vars="worker_count=1\nami_id=ami 1")
    assert "aws_instance.worker<br/>worker, 1 node<br/>" in sized.summary
    wrote = run_action(runner, workspace, path="examples/typha-blocked", annotations="false", summary="false",
                       **{"sarif-file": "", "extra-args": "--write-baseline .sglint-baseline.json"})
    assert (wrote.code, wrote.stdout) == (0, "sglint: wrote 3 findings to the baseline .sglint-baseline.json\n")
    known = run_action(runner, workspace, path="examples/typha-blocked", baseline=".sglint-baseline.json")
    assert (known.code, known.stdout) == (0, "sglint: 0 errors, 0 warnings\n")
    assert "**0 errors, 0 warnings** in 1 root module" in known.summary
    injected = run_action(runner, workspace, path="examples/typha-blocked", **{"extra-args": "--fail-on $(id)"})
    assert injected.code == 2 and "'$(id)' is not one of" in injected.stderr


def test_the_install_is_pinned_and_cached() -> None:
    install, cache = ACTION["runs"]["steps"][:2]
    assert '--constraint "$GITHUB_ACTION_PATH/constraints.txt"' in install["run"]
    assert install["env"]["PIP_CACHE_DIR"] == "${{ runner.temp }}/calico-sglint-pip-cache"
    assert cache["if"] == "inputs.cache == 'true'"
    assert cache["with"]["path"].splitlines() == ["${{ runner.temp }}/calico-sglint-pip-cache",
                                             "${{ runner.temp }}/calico-sglint-cache"]
    assert cache["with"]["key"] == ("calico-sglint-${{ runner.os }}-${{ steps.install.outputs.lock }}-"
                                    "${{ hashFiles('**/*.tf', '**/*.tfvars') }}")
    check = ACTION["runs"]["steps"][2]
    assert check["env"]["SGLINT_CACHE_DIR"] == "${{ runner.temp }}/calico-sglint-cache"
    pinned = dict(line.split("==", 1) for line in (REPO / "constraints.txt").read_text().splitlines()
                  if line and not line.startswith("#") and ";" not in line)
    from importlib.metadata import version

    assert {name: version(name) for name in pinned} == pinned  # the versions the tests ran with


def test_the_lock_output_names_the_pins(runner) -> None:  # type: ignore[no-untyped-def]
    lock = read_outputs(Path(runner["RUNNER_TEMP"]).parent / "output-install")["lock"]
    assert re.fullmatch(r"[0-9a-f]{16}", lock)


def test_every_profile_setting_is_an_input_passed_as_its_flag() -> None:
    """The Action exposes each setting of the profile registry, under the flag's name, and
    both its check and diff steps hand it to sglint with that flag (switches as
    --name/--no-name), through the one shared `profile_args` of action/args.sh."""
    from calico_sglint.profile.settings import SETTING_SPECS

    shared = (REPO / "action" / "args.sh").read_text()
    for spec in SETTING_SPECS:
        passed = f'switch {spec.flag[2:]} "$SGLINT_{spec.name.upper()}"' if spec.kind == "switch" else \
            f'args+=({spec.flag} "$SGLINT_{spec.name.upper()}")'
        assert passed in shared, spec.name
    for step in ("check", "diff"):
        script = next(s for s in ACTION["runs"]["steps"] if s.get("id") == step)
        assert 'source "$GITHUB_ACTION_PATH/action/args.sh"' in script["run"] and "\nprofile_args\n" in "\n" + script["run"], step
        for spec in SETTING_SPECS:
            name = spec.flag[2:]
            assert name in ACTION["inputs"], name
            assert script["env"]["SGLINT_" + spec.name.upper()] == f"${{{{ inputs.{name} }}}}", (step, name)


def test_the_src_dst_check_input_reaches_the_check(runner, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    run = run_action(runner, workspace, path="examples/typha-blocked", encapsulation="None", typha="false",
                     **{"aws-src-dst-check": "Enable", "sarif-file": ""})
    assert "calico-src-dst-check" in run.stdout and "Felix's awsSrcDstCheck is Enable (from --aws-src-dst-check)" in run.stdout


def test_the_documented_workflow_runs_in_a_consumer_repository(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The `with:` of docs/github-actions.md's workflow, run by the faked runner in a consumer
    repository whose infra/ holds the Typha incident."""
    block = re.search(r"```yaml\n(.*?)```", (REPO / "docs" / "github-actions.md").read_text(), re.S)
    assert block is not None
    ours = yaml.safe_load(block.group(1))["jobs"]["sglint"]["steps"][1]
    consumer = tmp_path / "consumer"
    shutil.copytree(EXAMPLES / "typha-blocked", consumer / "infra")
    (consumer / ".git").mkdir()
    run = run_action(runner, consumer, **{name: str(value) for name, value in ours["with"].items()})
    assert (run.code, run.outputs["exit-code"], run.outputs["sarif-file"]) == (1, "1", ours["with"]["sarif-file"])
    assert run.stdout.splitlines()[-1] == "sglint: 2 errors, 1 warning"
    assert run.stdout.startswith("::error file=infra/main.tf,line=21,endLine=25,title=calico-typha")
    assert json.loads((consumer / ours["with"]["sarif-file"]).read_text())["runs"][0]["results"][0]["ruleId"] == "calico-typha"
    assert "**2 errors, 1 warning** in 1 root module (`infra`)." in run.summary


# --- sglint diff on pull requests ----------------------------------------------------------


def pull_request(tmp_path: Path, base: str, number: int = 7) -> dict[str, str]:
    """The runner's variables for a pull_request event whose base commit is `base`."""
    payload = tmp_path / "event.json"
    payload.write_text(json.dumps({"pull_request": {"number": number, "base": {"sha": base}}}))
    return {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(payload), "GITHUB_REPOSITORY": "acme/infra"}


@pytest.fixture
def incident_pr(tmp_path: Path) -> tuple[Path, str]:
    """A checkout of a pull request that moves Typha to the workers only: its base commit,
    and the change in the working tree (as a merge checkout has it)."""
    repo = Repo(tmp_path / "pr")
    base = repo.commit({"infra/main.tf": cluster_tf(TYPHA_ALL_NODES)}, "cluster")
    repo.write({"infra/main.tf": cluster_tf(TYPHA_WORKERS_ONLY)})
    return repo.root, base


def test_on_a_pull_request_the_diff_fails_the_job_and_goes_to_the_summary(  # type: ignore[no-untyped-def]
    runner, incident_pr: tuple[Path, str], tmp_path: Path
) -> None:
    root, base = incident_pr
    run = run_action(runner, root, event=pull_request(tmp_path, base), path="infra", **{"fail-on": "never", "sarif-file": ""})
    assert (run.code, run.outputs["exit-code"], run.outputs["diff-exit-code"]) == (1, "0", "1")
    assert run.summary.count("## calico-sglint diff") == 1
    assert "**FAIL: this change closes 2 required paths and adds 2 error-level findings**" in run.summary
    closing = [line for line in run.stdout.splitlines() if "title=calico-typha%3A required path closed" in line]
    assert len(closing) == 2 and all(line.startswith("::error file=infra/main.tf,line=") for line in closing)
    assert run.stdout.splitlines()[-1] == "sglint diff: FAIL: this change closes 2 required paths and adds 2 error-level findings"


class FakeGitHub(http.server.ThreadingHTTPServer):
    """The issue-comment endpoints of the GitHub REST API, in memory."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _CommentHandler)
        self.comments: dict[int, dict[str, Any]] = {
            1: {"id": 1, "body": "<!-- calico-sglint diff -->\nforged by a person", "user": {"type": "User"}},
        }
        self.requests: list[tuple[str, str, str]] = []


class _CommentHandler(http.server.BaseHTTPRequestHandler):
    server: FakeGitHub

    def _answer(self, status: int, value: Any) -> None:
        data = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> str:
        self.server.requests.append((self.command, self.path, self.headers.get("Authorization", "")))
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length))["body"] if length else ""

    def do_GET(self) -> None:
        self._body()
        self._answer(200, list(self.server.comments.values()))

    def do_POST(self) -> None:
        body = self._body()
        number = max(self.server.comments) + 1
        self.server.comments[number] = {"id": number, "body": body, "user": {"type": "Bot"}}
        self._answer(201, self.server.comments[number])

    def do_PATCH(self) -> None:
        body = self._body()
        number = int(self.path.rsplit("/", 1)[1])
        self.server.comments[number]["body"] = body
        self._answer(200, self.server.comments[number])

    def log_message(self, *args: Any) -> None:
        pass


def test_the_pull_request_comment_is_written_once_then_updated(  # type: ignore[no-untyped-def]
    runner, incident_pr: tuple[Path, str], tmp_path: Path
) -> None:
    root, base = incident_pr
    server = FakeGitHub()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        event = {**pull_request(tmp_path, base), "GITHUB_API_URL": f"http://127.0.0.1:{server.server_port}"}
        given = {"path": "infra", "sarif-file": "", "diff-comment": "true", "github-token": "t0ken", "annotations": "false"}
        first = run_action(runner, root, event=event, **given)
        (root / "infra" / "main.tf").write_text(cluster_tf(TYPHA_ALL_NODES))  # the author fixes it
        second = run_action(runner, root, event=event, **given)
    finally:
        server.shutdown()
    assert (first.outputs["diff-exit-code"], second.outputs["diff-exit-code"]) == ("1", "0")
    assert [(method, path) for method, path, _ in server.requests] == [
        ("GET", "/repos/acme/infra/issues/7/comments?per_page=100&page=1"),
        ("POST", "/repos/acme/infra/issues/7/comments"),
        ("GET", "/repos/acme/infra/issues/7/comments?per_page=100&page=1"),
        ("PATCH", "/repos/acme/infra/issues/comments/2"),
    ]
    assert {auth for _, _, auth in server.requests} == {"Bearer t0ken"}
    assert sorted(server.comments) == [1, 2]  # one comment of ours; the forged one untouched
    assert server.comments[1]["body"].endswith("forged by a person")
    body = server.comments[2]["body"]
    assert body.startswith("<!-- calico-sglint diff -->\n## calico-sglint diff\n\n**OK: nothing sglint checks changed**")
    assert "calico-sglint: updated the comment on pull request #7" in second.stdout


def test_the_module_dirs_input_reads_installed_modules(runner, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    """Registry, git and S3 modules cached outside .terraform/modules, one directory per call key."""
    scenario = FIXTURES / "installed-modules"
    shutil.copytree(scenario / "root", workspace / "infra")
    for key, package in (("nodes", "k8s-nodes"), ("nodes.vxlan", "sg-rule"), ("bastion", "bastion-sg"), ("dns", "dns")):
        shutil.copytree(scenario / "modules" / package, workspace / "module-cache" / key)
    unread = run_action(runner, workspace, path="infra", **{"fail-on": "warning", "sarif-file": ""})
    assert unread.code == 1 and "module-unreadable" in unread.stdout
    read = run_action(runner, workspace, path="infra", **{"fail-on": "warning", "sarif-file": "",
                                                          "module-dirs": "module-cache"})
    assert (read.code, "module-unreadable" in read.stdout) == (0, False)
