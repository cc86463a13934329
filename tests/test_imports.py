"""What a command imports: `sglint --help` pays for nothing but its own formatting, a warm one-module check
does not parse (no Lark, no python-hcl2), and rich is loaded only to style a terminal.
Timing belongs in bench/, not here."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO

from calico_sglint import terminal

HEAVY = ("networkx", "pydantic", "lark", "hcl2", "rich", "jinja2", "yaml", "calico_sglint.pipeline")


def loaded_after(args: list[str], cache_dir: Path, terminal: bool = False) -> set[str]:
    """The heavy modules loaded by `sglint ARGS` run as its own process."""
    code = (
        "import sys\n"
        "from calico_sglint.cli import main\n"
        f"main({args!r})\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
    )
    env = dict(os.environ, SGLINT_CACHE_DIR=str(cache_dir))
    if not terminal:
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=env)
        stderr = result.stderr
    else:
        leader, follower = pty.openpty()
        result = subprocess.run([sys.executable, "-c", code], stdout=follower, stderr=subprocess.PIPE,
                                text=True, cwd=REPO, env=env)
        os.close(follower)
        os.close(leader)
        stderr = result.stderr
    last = stderr.strip().splitlines()[-1] if stderr.strip() else ""
    return set(filter(None, last.split(",")))


def test_help_loads_nothing_heavy(tmp_path: Path) -> None:
    for args in (["--help"], ["check", "--help"], ["fix", "--help"]):
        assert loaded_after(args, tmp_path) <= {"rich"}  # typer formats help with rich


@pytest.mark.slow
def test_a_warm_one_module_check_does_not_parse(tmp_path: Path) -> None:
    example = str(EXAMPLES / "typha-blocked")
    cold = loaded_after(["check", example, "--no-cache"], tmp_path)
    assert {"lark", "hcl2", "networkx", "yaml"} <= cold and not {"pydantic", "rich", "jinja2"} & cold
    loaded_after(["check", example], tmp_path)  # fills the cache
    warm = loaded_after(["check", example], tmp_path)
    assert warm == {"networkx", "yaml", "calico_sglint.pipeline"}


def test_the_stages_up_to_the_checks_import_no_graph_library() -> None:
    """networkx is imported while parse workers run (`reachability.import_graph_library`), so
    the modules a check loads before the parse must not import it themselves."""
    code = (
        "import sys\n"
        "import calico_sglint.cli, calico_sglint.pipeline, calico_sglint.checks.run, calico_sglint.fix.patches\n"
        "from calico_sglint.checks.reachability import import_graph_library\n"
        "before = 'networkx' in sys.modules\n"
        "import_graph_library()\n"
        "print(before, 'networkx' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert result.stdout.split() == ["False", "True"], result.stderr


@pytest.mark.slow
def test_rich_styles_a_terminal_and_only_a_terminal(tmp_path: Path) -> None:
    example = str(EXAMPLES / "typha-blocked")
    assert "rich" in loaded_after(["check", example], tmp_path, terminal=True)
    assert "rich" not in loaded_after(["check", example], tmp_path)


def test_text_off_a_terminal_is_the_plain_lines(capsys: pytest.CaptureFixture[str]) -> None:
    terminal.print_text([("plain", ""), ("styled", "bold red"), ("", ""), ("  indented [x]", "dim")])
    assert capsys.readouterr().out == "plain\nstyled\n\n  indented [x]\n"


def test_every_package_is_in_the_wheel() -> None:
    """pyproject lists the packages (rules/ maps onto calico_sglint.rules); a new one must be added there."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]

    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(REPO).parts)
        for init in (REPO / "calico_sglint").rglob("__init__.py")
    } | {"calico_sglint.rules"}
    assert listed == found
