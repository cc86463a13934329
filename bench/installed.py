"""Lay out `.terraform/modules` the way `terraform init` does, from module directories on disk.

`terraform init` copies each non-local module a root calls into `.terraform/modules/<key>`
(the key is the dotted path of call names: `eks`, `eks.kms`) and records every call, local
ones inside installed modules too, in `.terraform/modules/modules.json`. The tests and the
benchmark build that layout from fixtures or from the corpus (`../shared/corpus`), without
network and without terraform.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass

REGISTRY_HOST = "registry.terraform.io/"
EKS_SOURCE = "terraform-aws-modules/eks/aws"
EKS_LOCAL_CALLS = (
    ("eks_managed_node_group", "./modules/eks-managed-node-group"),
    ("fargate_profile", "./modules/fargate-profile"),
    ("self_managed_node_group", "./modules/self-managed-node-group"),
)


@dataclass(frozen=True)
class Install:
    """One module call `terraform init` installed: `copy_from` is the module's code (None:
    the call is recorded with a `Dir` that does not exist)."""

    key: str
    source: str
    copy_from: str | None
    version: str | None = None
    local_calls: tuple[tuple[str, str], ...] = ()  # (call name, ./source) inside the module
    subdir: str = ""  # a `//subdir` of the package


def terraform_init(root: str, installs: list[Install], data_dir: str = ".terraform") -> str:
    """Write `<root>/<data_dir>/modules/` for `installs`; the path of its modules.json."""
    modules_dir = os.path.join(root, data_dir, "modules")
    os.makedirs(modules_dir, exist_ok=True)
    entries: list[dict[str, str]] = [{"Key": "", "Source": "", "Dir": "."}]
    for install in installs:
        package = os.path.join(modules_dir, install.key)
        if install.copy_from is not None:
            shutil.copytree(install.copy_from, package, dirs_exist_ok=True)
        directory = f"{data_dir}/modules/{install.key}" + (f"/{install.subdir}" if install.subdir else "")
        entry = {"Key": install.key, "Source": install.source, "Dir": directory}
        if install.version is not None:
            entry["Version"] = install.version
        entries.append(entry)
        for name, source in install.local_calls:
            entries.append({"Key": f"{install.key}.{name}", "Source": source,
                            "Dir": os.path.normpath(os.path.join(directory, source)).replace(os.sep, "/")})
    manifest = os.path.join(modules_dir, "modules.json")
    with open(manifest, "w", encoding="utf-8") as handle:
        json.dump({"Modules": entries}, handle)
    return manifest


def eks_module_copy(corpus: str, dest: str) -> str:
    """The terraform-aws-eks module as the registry ships it (root *.tf, templates/, modules/)."""
    source = os.path.join(corpus, "terraform-aws-eks")
    os.makedirs(dest, exist_ok=True)
    for name in os.listdir(source):
        path = os.path.join(source, name)
        if name.endswith(".tf"):
            shutil.copy2(path, dest)
        elif name in ("templates", "modules"):
            shutil.copytree(path, os.path.join(dest, name), dirs_exist_ok=True)
    return dest


def eks_example(corpus: str, dest: str, version: str = "21.3.1") -> str:
    """The corpus's self-managed-node-group example in `dest`, with `.terraform/modules` as
    `terraform init` leaves it for its two EKS module calls (the registry's VPC and KMS
    modules are not in the corpus: they stay uninstalled). Returns the example's directory."""
    example = os.path.join(dest, "self-managed-node-group")
    shutil.copytree(os.path.join(corpus, "terraform-aws-eks", "examples", "self-managed-node-group"), example)
    package = eks_module_copy(corpus, os.path.join(dest, "eks-package"))
    terraform_init(example, [
        Install(key, REGISTRY_HOST + EKS_SOURCE, package, version, EKS_LOCAL_CALLS)
        for key in ("eks_al2023", "eks_bottlerocket")
    ])
    shutil.rmtree(package)
    return example
