"""A rule as `sglint rules` lists it and `sglint explain` shows it: a page like ruff's or
tflint's rule docs (what it does, why it matters, an example, how to fix it, the source)."""

from __future__ import annotations

import textwrap

from calico_sglint.profile.rulepack import PackRule


def applies_text(rule: PackRule) -> str:
    if rule.kind == "structural":
        return "structural check (no traffic requirement; see What it does)"
    traffic = _traffic(rule)
    roles = f"from {_role(rule.from_role)} to {_role(rule.to_role)}"
    when = ", ".join(f"{k}={'/'.join(map(str, v))}" for k, v in rule.when.items())
    if "eks-control-plane" in (rule.from_role, rule.to_role):
        when = ", ".join(filter(None, ["an aws_eks_cluster is in the root", when]))
    return f"{traffic} {roles}; applies when {when or 'always'}"


def _traffic(rule: PackRule) -> str:
    if rule.protocol == "all":
        return "all traffic"
    if rule.protocol not in ("tcp", "udp"):
        return f"IP protocol {rule.protocol}"
    ports = ", ".join(p if isinstance(p, str) else (f"{p[0]}" if p[0] == p[1] else f"{p[0]}-{p[1]}") for p in rule.ports)
    return f"{rule.protocol.upper()} {ports}"


def _role(role: str) -> str:
    return {
        "any": "every node", "control-plane": "the control plane", "worker": "workers",
        "eks-control-plane": "the EKS control plane",
    }.get(role, role)


def rule_page(rule: PackRule) -> str:
    """A rule as a page: what it does, why, example, fix, source."""
    def para(text: str) -> str:
        return textwrap.fill(" ".join(text.split()), width=88, initial_indent="  ", subsequent_indent="  ")

    def block(text: str) -> str:
        return textwrap.indent(text.rstrip("\n"), "  ")

    lines = [
        f"{rule.id}: {rule.title}",
        "",
        f"  severity  {rule.severity}{'' if rule.enabled else ' (disabled)'}",
        f"  checks    {applies_text(rule)}",
        f"  defined   {rule.defined_in}",
        "",
        "What it does",
        para(rule.description),
        "",
        "Why it matters",
        para(rule.why),
    ]
    if rule.example:
        base = " (with the master and worker groups of rules/examples/base.tf)" if rule.kind == "path" else ""
        lines += ["", f"Example{base}", block(rule.example)]
    if rule.example_fixed:
        lines += ["", "Fixed", block(rule.example_fixed)]
    lines += ["", "How to fix", block(rule.fix), "", "Source", f"  {rule.source}"]
    return "\n".join(lines)
