"""Time `sglint check --plan` on a 100-module plan against a warm HCL run of the same code.

The plan is made from the bench monorepo's model (bench/generate.py): sglint's own HCL
evaluation of each generated cluster module becomes one module instance of one plan (a root
that calls every cluster module), laid out like `terraform show -json` prints it: planned
values, `after_unknown` for what only apply knows (the ids of the groups created), and the
`configuration` section with each unknown expression's `references`. Then, round after
round:

  hcl show    `sglint show -f json TREE` with the cache a previous run wrote (every cluster a root)
  plan show   `sglint show -f json --plan plan.json` in an empty directory (no sources to read)
  plan+tf     `sglint show -f json --plan plan.json ROOT`, warm: the plan with the sources for
              locations (ROOT: a root module calling every cluster module with its tfvars values)
  hcl check   `sglint check -f json TREE`, warm
  plan check  `sglint check -f json --plan plan.json`

`show` is read and model only: the cost of reading a plan against reading HCL. `check` adds
the checks; one root calling 100 *different* cluster modules is one cluster (only instances
of one module are split, model/clusters.py), read from HCL or from the plan alike, so both
checks also check every path between the modules (quadratic in N, ~120,000 findings at
N = 100): `--no-check` leaves them out.

    python bench/plan.py                    # N = 100; 5 rounds
    python bench/plan.py --modules 10 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from generate import generate  # noqa: E402  (bench/ is not a package)
from run import Series, run_once  # noqa: E402


def plan_document(tree: str, modules: list[str]) -> dict[str, Any]:
    """The plan of a root calling each module directory of `modules` (as `module.<dir name>`)."""
    from calico_sglint.pipeline import ReadOptions, read

    root: dict[str, Any] = {"resources": [], "child_modules": []}
    calls: dict[str, Any] = {}
    changes: list[dict[str, Any]] = []
    for directory in modules:
        name = os.path.basename(directory).replace(".", "_")
        result = read(ReadOptions(paths=(directory,), extra_types=frozenset()))
        child = {"address": f"module.{name}", "resources": []}
        config: dict[str, Any] = {"resources": []}
        declared: set[str] = set()
        for configuration in result.configurations:
            for instance in configuration.resources:
                values, unknown, expressions = _body(instance.body)
                address = f"module.{name}.{instance.address}"
                entry = {"address": address, "mode": instance.mode, "type": instance.type, "name": instance.name,
                         "provider_name": "registry.terraform.io/hashicorp/aws", "schema_version": 1,
                         "values": values, "sensitive_values": {}}
                if instance.key is not None:
                    entry["index"] = instance.key
                child["resources"].append(entry)
                changes.append({"address": address, "module_address": f"module.{name}", "mode": instance.mode,
                                "type": instance.type, "name": instance.name,
                                "change": {"actions": ["create"], "before": None, "after": values,
                                           "after_unknown": {**unknown, "id": True}}})
                if instance.resource not in declared:
                    declared.add(instance.resource)
                    config["resources"].append({"address": instance.resource, "mode": instance.mode,
                                                "type": instance.type, "name": instance.name,
                                                "expressions": expressions})
        root["child_modules"].append(child)
        calls[name] = {"source": f"../{os.path.relpath(directory, tree)}", "module": config}
    return {"format_version": "1.2", "terraform_version": "1.9.5", "planned_values": {"root_module": root},
            "resource_changes": changes, "configuration": {"root_module": {"module_calls": calls}}}


def write_root(tree: str, modules: list[str]) -> str:
    """`TREE/root/main.tf`: a root module calling each cluster module with the values of its
    terraform.tfvars, the configuration `plan_document`'s plan is a plan of. TREE is marked a
    repository (`.git`), as a monorepo is: sglint reads only inside the repository, and
    `root/` calls `../clusters/...`."""
    root = os.path.join(tree, "root")
    os.makedirs(root, exist_ok=True)
    if not os.path.exists(os.path.join(tree, ".git")):
        os.makedirs(os.path.join(tree, ".git"))
    calls = []
    for directory in modules:
        name = os.path.basename(directory).replace(".", "_")
        with open(os.path.join(directory, "terraform.tfvars"), encoding="utf-8") as handle:
            values = handle.read()
        calls.append(f'module "{name}" {{\n  source = "../{os.path.relpath(directory, tree)}"\n\n{values}}}\n')
    with open(os.path.join(root, "main.tf"), "w", encoding="utf-8") as handle:
        handle.write("\n".join(calls))
    return root


def _body(block: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(values, after_unknown, expressions) of an evaluated block: `Ref`s and `Unknown`s are
    unknown, a `Ref` recorded as a reference the way Terraform records `aws_x.y.id`."""
    from calico_sglint.terraform.values import Ref, Unknown, find_unknown

    values: dict[str, Any] = {}
    unknown: dict[str, Any] = {}
    expressions: dict[str, Any] = {}
    for name, attr in block.attrs.items():
        refs = [v for v in (attr.value if isinstance(attr.value, (list, tuple)) else [attr.value]) if isinstance(v, Ref)]
        if find_unknown(attr.value) is None:
            values[name] = list(attr.value) if isinstance(attr.value, tuple) else attr.value
            expressions[name] = {"constant_value": values[name]}
        else:
            unknown[name] = True
            references = [r for ref in refs for r in (ref.expr(), ref.address)]
            expressions[name] = {"references": references} if references else {}
            if not references and isinstance(attr.value, Unknown):
                expressions[name] = {"references": [attr.value.expr]}
    for nested in block.blocks:
        inner_values, inner_unknown, inner_expressions = _body(nested)
        values.setdefault(nested.type, []).append(inner_values)
        unknown.setdefault(nested.type, []).append(inner_unknown)
        expressions.setdefault(nested.type, []).append(inner_expressions)
    return values, unknown, expressions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modules", type=int, default=100, help="cluster modules in the plan (default 100)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (default 5)")
    parser.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "sglint-bench-plan"))
    parser.add_argument("--python", default=sys.executable, help="the Python with calico-sglint installed")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-check", action="store_true", help="time show only (see above)")
    args = parser.parse_args(argv)
    tree = os.path.join(args.workdir, f"mono-{args.modules}")
    shutil.rmtree(tree, ignore_errors=True)
    directories = generate(tree, args.modules, args.seed)
    plan_dir = os.path.join(args.workdir, "plan")
    os.makedirs(plan_dir, exist_ok=True)
    plan_file = os.path.join(plan_dir, "plan.json")
    with open(plan_file, "w", encoding="utf-8") as handle:
        json.dump(plan_document(tree, directories), handle)
    size = os.path.getsize(plan_file) / 1e6
    write_root(tree, directories)
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", SGLINT_CACHE_DIR=os.path.join(args.workdir, "cache"))
    sglint = [args.python, "-m", "calico_sglint"]
    runs = [("hcl show", [*sglint, "show", "-f", "json", "."], tree),
            ("plan show", [*sglint, "show", "-f", "json", "--plan", "plan.json"], plan_dir),
            ("plan+tf", [*sglint, "show", "-f", "json", "--plan", plan_file, "root"], tree)]
    if not args.no_check:
        runs += [("hcl check", [*sglint, "check", "-f", "json", "."], tree),
                 ("plan check", [*sglint, "check", "-f", "json", "--plan", "plan.json"], plan_dir)]
    run_once(runs[0][1], env, tree)  # fill the cache
    run_once(runs[2][1], env, tree)
    series = {name: Series(name) for name, _, _ in runs}
    for round_ in range(args.rounds):
        for name, command, cwd in (runs if round_ % 2 == 0 else list(reversed(runs))):
            series[name].samples.append(run_once(command, env, cwd))
            print(f"  {name:<10} {series[name].samples[-1].seconds:7.3f} s", file=sys.stderr)
    print(f"{args.modules} modules, plan {size:.1f} MB, medians of {args.rounds} rounds, {os.cpu_count()} CPUs:")
    for name, s in series.items():
        print(f"  {name:<10} {s.median:6.2f} s  peak RSS {s.peak_rss_mb:.0f} MB  exit {sorted({x.code for x in s.samples})}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
