"""cli.py: malformed input ends in a clear one-line message and exit 0/2, never a traceback."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, write

from calico_sglint import cli


def test_version_and_help(sglint) -> None:  # type: ignore[no-untyped-def]
    assert sglint("--version").stdout.strip().startswith("sglint ")
    help_text = sglint("show", "--help")
    assert help_text.code == 0
    assert "Examples:" in help_text.stdout and "sglint show examples/typha-blocked" in help_text.stdout


@pytest.mark.parametrize(
    ("files", "expected_code", "expected_stderr"),
    [
        ({"main.tf": 'resource "a" "b" {\n  x = 1\n'}, 2,
         "main.tf:2: unexpected end of file (is a closing brace or quote missing?)"),
        ({"main.tf": 'resource "a" "b" {\n  x = @\n}\n'}, 2, "main.tf:2: syntax error: unexpected '@'"),
        ({"main.tf": 'x = "' + "a" * 1_000_000 + '"\n'}, 0, ""),
        ({"main.tf": 'x = "' + "a" * 5_000_000 + '"\n'}, 2, "main.tf: file is larger than 1 MiB, more than sglint parses"),
        ({"main.tf": "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n"}, 0, ""),
        ({"main.tf": "locals {\n  x = " + "[" * 5000 + "]" * 5000 + "\n}\n"}, 2,
         "main.tf:1: expression nested too deeply to evaluate"),
    ],
    ids=["unclosed-brace", "bad-token", "1MB-string", "5MB-file", "5000-parentheses", "5000-nested-lists"],
)
def test_malformed_terraform(  # type: ignore[no-untyped-def]
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sglint, files, expected_code, expected_stderr
) -> None:
    write(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    result = sglint("show", ".")
    assert result.code == expected_code
    first_line = result.stderr.splitlines()[0] if result.stderr else ""
    assert first_line == expected_stderr


def test_binary_and_non_utf8_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sglint) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "main.tf").write_bytes(b"\x7fELF\x00\x01")
    (tmp_path / "latin1").mkdir()
    (tmp_path / "latin1" / "main.tf").write_bytes(b'# caf\xe9\nx = 1\n')
    monkeypatch.chdir(tmp_path)
    result = sglint("show", ".")
    assert result.code == 2
    lines = result.stderr.splitlines()
    assert "bin/main.tf:1: binary file (contains NUL bytes), not Terraform text" in lines
    assert (
        "latin1/main.tf:1: not UTF-8 text (byte 0xe9); Terraform files must be UTF-8" in lines
    )


def test_missing_path_and_empty_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sglint) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path)
    missing = sglint("show", "nope")
    assert (missing.code, missing.stderr.strip()) == (2, "nope: no such file or directory")
    empty = sglint("show", "empty")
    assert (empty.code, empty.stderr.strip()) == (2, "sglint: no Terraform files (*.tf) found in empty")


def test_bad_flags_are_usage_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sglint) -> None:  # type: ignore[no-untyped-def]
    write(tmp_path, {"main.tf": "x = 1\n"})
    monkeypatch.chdir(tmp_path)
    assert sglint("show", ".", "--format", "yaml").code == 2
    bad_var = sglint("show", ".", "--var", "novalue")
    assert (bad_var.code, bad_var.stderr.strip()) == (2, 'sglint: --var "novalue": expected NAME=VALUE')
    missing_file = sglint("show", ".", "--var-file", "nope.tfvars")
    assert (missing_file.code, missing_file.stderr.strip()) == (2, "nope.tfvars: no such variables file (--var-file)")


def _process(
    *args: str, stdout: int | object = subprocess.PIPE, closing: str = ""
) -> subprocess.CompletedProcess[str]:
    """`python -m calico_sglint ARGS` from this checkout, as a real process (its streams
    redirected by `closing`, a shell redirection such as `>&-`), without debug tracebacks."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("SGLINT_DEBUG", None)
    return subprocess.run(
        ["sh", "-c", f'exec "$0" -m calico_sglint "$@" {closing}', sys.executable, *args],
        stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=60, env=env, cwd=REPO,
    )


@pytest.mark.parametrize(
    "content",
    [b'resource "a" "b" {\n', b"\x00\x00", b"\xff\xfe\x00", b'x = "${' * 200],
    ids=["unclosed", "nul", "utf16-bom", "open-interpolations"],
)
@pytest.mark.slow
def test_a_real_process_never_prints_a_traceback(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "main.tf").write_bytes(content)
    process = _process("show", str(tmp_path))
    assert process.returncode == 2
    assert "Traceback" not in process.stderr
    assert len(process.stderr.strip().splitlines()) == 2  # the file error, then "module ... not checked"


@pytest.mark.slow
def test_a_real_process_ends_with_all_its_output_and_its_exit_code(tmp_path: Path, sglint, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The process ends without Python's shutdown (`run`): the report, on stdout and in
    `--also` files, is whole, and the exit code is the check's."""
    monkeypatch.chdir(REPO)
    arguments = ("check", "examples/typha-blocked", "--format", "json", "--no-cache")
    process = _process(*arguments, "--also", f"sarif={tmp_path / 'report.sarif'}")
    assert process.returncode == 1
    assert process.stdout == sglint(*arguments).stdout
    assert json.loads((tmp_path / "report.sarif").read_text())["version"] == "2.1.0"


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
@pytest.mark.parametrize(
    "arguments",
    [
        ("check", "examples/typha-blocked", "--format", "json", "--no-cache"),
        ("check", "examples/typha-blocked", "--no-cache"),
        ("show", "examples/typha-blocked", "--no-cache"),
        ("fix", "examples/typha-blocked", "--diff", "--no-cache"),
        ("explain", "calico-typha"),
        ("rules",),
    ],
    ids=["check-json", "check-text", "show", "fix-diff", "explain", "rules"],
)
def test_output_that_cannot_be_written_is_a_one_line_error(arguments: tuple[str, ...]) -> None:
    with open("/dev/full", "w") as full:
        process = _process(*arguments, stdout=full)
    assert process.returncode == 2
    assert process.stderr == "sglint: cannot write to standard output: No space left on device\n"


class _Unflushable(io.StringIO):
    def __init__(self, error: OSError) -> None:
        super().__init__()
        self.error = error

    def flush(self) -> None:
        raise self.error


@pytest.mark.parametrize(
    ("error", "code", "said"),
    [
        (None, 1, ""),
        (BrokenPipeError(32, "Broken pipe"), 1, ""),
        (OSError(28, "No space left on device"), 2, "sglint: cannot write to standard output: No space left on device\n"),
    ],
    ids=["flushed", "reader-went-away", "disk-full"],
)
def test_the_exit_code_says_whether_the_output_was_written(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], error: OSError | None, code: int, said: str
) -> None:
    """`run` ends the process with `flushed`'s code: the check's (here 1), unless what is
    left of stdout could not be written."""
    if error is not None:
        monkeypatch.setattr(sys, "stdout", _Unflushable(error))
    assert cli.flushed(1) == code
    assert capsys.readouterr().err == said


@pytest.mark.slow
@pytest.mark.parametrize(
    ("closing", "arguments", "code"),
    [
        (">&-", ("check", "examples/typha-blocked", "--no-cache"), 1),
        (">&-", ("check", "examples/typha-blocked", "--no-cache", "--format", "json"), 1),
        (">&-", ("--version",), 0),
        ("2>&-", ("check", "examples/typha-blocked", "--no-cache"), 1),
        ("2>&- >&-", ("check", "missing-directory"), 2),
    ],
    ids=["stdout-text", "stdout-json", "stdout-version", "stderr", "both-input-error"],
)
def test_a_process_started_with_a_stream_closed_ends_with_its_own_exit_code(
    closing: str, arguments: tuple[str, ...], code: int
) -> None:
    """Nothing to print to is not an error (as click treats it), and never a traceback."""
    process = _process(*arguments, closing=closing)
    assert process.returncode == code
    if closing == ">&-":
        assert process.stderr == ""
    if closing == "2>&-":
        assert process.stdout.startswith("examples/typha-blocked\n")
