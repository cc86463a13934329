"""The fuzz harness: hostile and broken Terraform, run through `check`, `show`, `graph` and `fix`
in process, looking for what input must never cause: an internal error (a traceback), an
exit code other than 0/1/2, or a hang.

Two sources of cases:
- `mutate(text, rng)`: a seeded mutation of a fixture file (byte flips, token deletions and
  duplications, truncation, swapped quotes and braces, `${`/`%{` insertions, NULs, long
  lines, random unicode), so a case is reproduced from (fixture, file, seed) alone;
- `odd_modules()`: a hypothesis strategy of valid-but-odd Terraform: odd types in every
  attribute the model reads, huge counts, cycles among locals and modules.

A crash found here becomes a named regression fixture in tests/data/fuzz-regressions/.
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from hypothesis import strategies as st

from calico_sglint.cli import main

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"
REGRESSIONS = Path(__file__).resolve().parent / "data" / "fuzz-regressions"
COMMANDS: tuple[tuple[str, ...], ...] = (
    ("check", "--format", "json"),
    ("show", "--format", "json"),
    ("graph", "--format", "dot"),
    ("fix",),
)

# --- mutations ----------------------------------------------------------------------------

_TOKENS = ('"', "{", "}", "[", "]", "(", ")", "=", ",", "${", "%{", "\n", "#", "<<EOT\n", "...", ".", "*")
_ODD = ("\x00", "\u202e", "\ufeff", "\U0001f1e6", "\u0301", "\r", "\t", "\\", "\ud7ff", "\u2028")


def _flip(text: str, rng: random.Random) -> str:
    data = bytearray(text.encode("utf-8"))
    if data:
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    return data.decode("utf-8", errors="replace")


def _delete(text: str, rng: random.Random) -> str:
    start = rng.randrange(len(text) + 1)
    return text[:start] + text[start + rng.randint(1, 12):]


def _duplicate(text: str, rng: random.Random) -> str:
    start = rng.randrange(len(text) + 1)
    end = min(len(text), start + rng.randint(1, 80))
    return text[:end] + text[start:end] + text[end:]


def _truncate(text: str, rng: random.Random) -> str:
    return text[: rng.randrange(len(text) + 1)]


def _swap(text: str, rng: random.Random) -> str:
    pairs = {'"': "'", "{": "}", "}": "{", "[": "]", "]": "[", "(": ")", ")": "("}
    spots = [i for i, c in enumerate(text) if c in pairs]
    if not spots:
        return text
    i = rng.choice(spots)
    return text[:i] + pairs[text[i]] + text[i + 1:]


def _insert_token(text: str, rng: random.Random) -> str:
    i = rng.randrange(len(text) + 1)
    return text[:i] + rng.choice(_TOKENS) + text[i:]


def _insert_odd(text: str, rng: random.Random) -> str:
    i = rng.randrange(len(text) + 1)
    return text[:i] + "".join(rng.choice(_ODD) for _ in range(rng.randint(1, 4))) + text[i:]


def _long_line(text: str, rng: random.Random) -> str:
    i = rng.randrange(len(text) + 1)
    return text[:i] + rng.choice("a ${x}\"") * rng.randint(1000, 20000) + text[i:]


MUTATIONS: tuple[Callable[[str, random.Random], str], ...] = (
    _flip, _delete, _duplicate, _truncate, _swap, _insert_token, _insert_odd, _long_line,
)


def mutate(text: str, rng: random.Random) -> str:
    """One to three mutations of `text`."""
    for _ in range(rng.randint(1, 3)):
        text = rng.choice(MUTATIONS)(text, rng)
    return text


def seed_files() -> list[Path]:
    """Every fixture's Terraform file, the seeds the mutations start from."""
    return sorted(p for p in FIXTURES.rglob("*.tf") if "expected" not in p.parts)


@dataclass(frozen=True)
class Case:
    """One mutated fixture: reproduced from the fixture file and the seed alone."""

    file: Path
    seed: int

    def build(self, workdir: Path) -> Path:
        fixture = self.file.parent
        while fixture.parent != FIXTURES:
            fixture = fixture.parent
        target = workdir / fixture.name
        shutil.copytree(fixture, target, ignore=shutil.ignore_patterns("expected"))
        rng = random.Random(self.seed)
        mutated = target / self.file.relative_to(fixture)
        mutated.write_bytes(mutate(self.file.read_text("utf-8"), rng).encode("utf-8", errors="surrogatepass"))
        return target


def cases(count: int, first_seed: int = 0) -> list[Case]:
    files = seed_files()
    return [Case(files[seed % len(files)], seed) for seed in range(first_seed, first_seed + count)]


# --- running ------------------------------------------------------------------------------


def run(command: tuple[str, ...], directory: Path, capsys) -> str | None:  # type: ignore[no-untyped-def]
    """Run one command on `directory` in process; what went wrong, or None."""
    capsys.readouterr()
    try:
        code = main([command[0], str(directory), "--no-cache", *command[1:]])
    except BaseException as err:  # noqa: BLE001 - the harness reports anything that escapes
        return f"{' '.join(command)}: {type(err).__name__}: {err}"
    out, err = capsys.readouterr()
    if "internal error" in err or "Traceback" in err:
        return f"{' '.join(command)}: {err.strip().splitlines()[-1]}"
    if code not in (0, 1, 2):
        return f"{' '.join(command)}: exit code {code}"
    return None


# --- valid but odd Terraform --------------------------------------------------------------

_SCALARS = st.sampled_from([
    "null", "true", "false", "0", "-1", "65536", "1e308", "99999999999999999999", '""', '"all"', '"-1"',
    '"tcp"', '"4"', '"0.0.0.0/0"', '"::/0"', '"10.0.0.0/8"', '"not-a-cidr"', '"sg-123"', '"${local.a}"',
    "local.a", "local.b", "var.v", "aws_security_group.a.id", "aws_security_group.b.id", "data.aws_vpc.x.id",
    "module.m.out", "each.key", "count.index", "self", '"%{ for x in [1] }${x}%{ endfor }"',
])


def _values(depth: int = 2) -> st.SearchStrategy[str]:
    if depth == 0:
        return _SCALARS
    inner = _values(depth - 1)
    return st.one_of(
        _SCALARS,
        st.lists(inner, max_size=3).map(lambda items: "[" + ", ".join(items) + "]"),
        st.lists(st.tuples(st.sampled_from(["a", "Name", "Role", "kubernetes.io/role/worker"]), inner), max_size=3).map(
            lambda pairs: "{" + ", ".join(f'"{k}" = {v}' for k, v in pairs) + "}"
        ),
        st.tuples(inner, inner).map(lambda ab: f"true ? {ab[0]} : {ab[1]}"),
        st.tuples(st.sampled_from(["toset", "tolist", "flatten", "length", "tostring", "tonumber", "keys", "one"]), inner).map(
            lambda fa: f"{fa[0]}({fa[1]})"
        ),
    )


_RULE_ATTRS = ["from_port", "to_port", "protocol", "cidr_blocks", "ipv6_cidr_blocks", "security_groups", "self",
               "prefix_list_ids", "description"]
_INSTANCE_ATTRS = ["count", "for_each", "vpc_security_group_ids", "security_groups", "source_dest_check", "subnet_id",
                   "tags", "private_ip"]
_RULE_RESOURCE_ATTRS = ["type", "from_port", "to_port", "protocol", "security_group_id", "source_security_group_id",
                        "cidr_blocks", "self", "count"]


def _body(names: list[str]) -> st.SearchStrategy[str]:
    return st.lists(st.tuples(st.sampled_from(names), _values()), max_size=6, unique_by=lambda kv: kv[0]).map(
        lambda kvs: "".join(f"  {k} = {v}\n" for k, v in kvs)
    )


@st.composite
def odd_modules(draw: st.DrawFn) -> dict[str, str]:
    """A root module (and sometimes a child) of odd but parseable Terraform: file -> text."""
    locals_ = draw(st.sampled_from([
        "locals {\n  a = local.b\n  b = local.a\n}\n",  # a cycle
        'locals {\n  a = "sg-1"\n  b = [for i in range(5) : i]\n}\n',
        "locals {\n  a = [for i in range(1000) : [for j in range(3) : j]]\n  b = 1\n}\n",
        'locals {\n  a = format("%9999d", 1)\n  b = regex("(a+)+b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")\n}\n',
    ]))
    ingress = draw(_body(_RULE_ATTRS))
    egress = draw(_body(_RULE_ATTRS))
    instance = draw(_body(_INSTANCE_ATTRS))
    rule = draw(_body(_RULE_RESOURCE_ATTRS))
    module = draw(st.sampled_from([
        "", 'module "m" {\n  source = "./"\n}\n', 'module "m" {\n  source = "./child"\n  count = 100000\n}\n',
        'module "m" {\n  source = "./child"\n  v = local.a\n}\n',
    ]))
    main = (
        f'variable "v" {{\n  default = {draw(_values(1))}\n}}\n{locals_}{module}'
        f'resource "aws_security_group" "a" {{\n  name = "worker"\n  ingress {{\n{ingress}  }}\n  egress {{\n{egress}  }}\n}}\n'
        f'resource "aws_security_group" "b" {{\n  name = "control-plane"\n}}\n'
        f'resource "aws_instance" "w" {{\n{instance}}}\n'
        f'resource "aws_security_group_rule" "r" {{\n{rule}}}\n'
    )
    child = 'variable "v" {}\nmodule "again" {\n  source = "../child"\n}\noutput "out" {\n  value = var.v\n}\n'
    return {"main.tf": main, "child/main.tf": child}
