"""What an expression sees when it names a resource, a data source or a module instance.

A managed resource's id (and name, arn) is a `Ref`; the cluster security group EKS creates
is a `Ref` too (the model turns it into that group); everything else about a resource is
known only after apply. A module instance's attributes are its outputs; a module sglint
cannot read has only unknown outputs, saying why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from calico_sglint.terraform.values import ObjectLike, Ref, Unknown

if TYPE_CHECKING:
    from calico_sglint.terraform.evaluate import ModuleInstance


# Attributes the provider computes that name a security group sglint models: the cluster
# security group EKS creates for `aws_eks_cluster` (`vpc_config[0].cluster_security_group_id`).
COMPUTED_SECURITY_GROUPS = {"aws_eks_cluster": ("vpc_config", "cluster_security_group_id")}


class ResourceObject(ObjectLike):
    """A resource instance as an expression sees it: its id is a `Ref`, the rest unknown."""

    def __init__(self, address: str, managed: bool, type_: str = "") -> None:
        self.expr = address
        self.managed = managed
        self.type = type_

    def get_attr(self, name: str) -> Any:
        if name == "id" or (self.managed and name in ("arn", "name")):
            return Ref(self.expr, name)
        computed = COMPUTED_SECURITY_GROUPS.get(self.type) if self.managed else None
        if computed is not None and name == computed[0]:
            block = f"{self.expr}.{name}[0]"
            return [ComputedBlock(block, {computed[1]: Ref(self.expr, f"{name}[0].{computed[1]}")})]
        reason = "known only after apply" if self.managed else "data source: sglint does not read AWS"
        return Unknown(f"{self.expr}.{name}", reason)


class ComputedBlock(ObjectLike):
    """A nested block the provider fills in: the attributes in `known` are `Ref`s, the rest unknown."""

    def __init__(self, expr: str, known: Mapping[str, Any]) -> None:
        self.expr = expr
        self.known = known

    def get_attr(self, name: str) -> Any:
        if name in self.known:
            return self.known[name]
        return Unknown(f"{self.expr}.{name}", "known only after apply")


class ModuleObject(ObjectLike):
    """A local module instance: its attributes are its outputs."""

    def __init__(self, instance: ModuleInstance) -> None:
        self.expr = instance.address
        self.instance = instance

    def get_attr(self, name: str) -> Any:
        return self.instance.output(name)


class OpaqueModule(ObjectLike):
    """A module we do not evaluate (remote source): every output is unknown."""

    def __init__(self, address: str, reason: str) -> None:
        self.expr = address
        self.reason = reason

    def get_attr(self, name: str) -> Any:
        return Unknown(f"{self.expr}.{name}", self.reason)


class Placeholder(ObjectLike):
    """A resource or module whose count/for_each is unknown: any instance looks like `each`."""

    def __init__(self, address: str, each: Any, unknown: Unknown) -> None:
        self.expr = address
        self.each = each
        self.unknown = unknown

    def get_attr(self, name: str) -> Any:
        return Unknown(f"{self.expr}.{name}", f"instances depend on {self.unknown.expr}", self.unknown.location)

    def index(self, key: Any) -> Any:
        return self.each

    def splat(self) -> Any:
        return Unknown(f"{self.expr}[*]", f"instances depend on {self.unknown.expr}", self.unknown.location)
