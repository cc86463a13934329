"""calico-wireguard: input modules and the exact findings of the rule (harness: tests/rules/ruletable.py)."""

from __future__ import annotations

from pathlib import Path

from ruletable import BASE, Case, cases, findings_of, page

RULE = "calico-wireguard"


@cases(
    Case(
        "tcp",  # WireGuard is UDP
        {"base.tf": BASE, "main.tf": page("calico-wireguard").example},
        [
            ("error", "base.tf:5",
             "aws_security_group.master cannot reach aws_security_group.master on udp/51820: no ingress rule "
             "on aws_security_group.master admits udp/51820 from itself"),
            ("error", "base.tf:5",
             "aws_security_group.worker cannot reach aws_security_group.master on udp/51820: no ingress rule "
             "on aws_security_group.master admits udp/51820 from aws_security_group.worker"),
            ("error", "base.tf:9",
             "aws_security_group.master cannot reach aws_security_group.worker on udp/51820: no ingress rule "
             "on aws_security_group.worker admits udp/51820 from aws_security_group.master"),
            ("error", "base.tf:9",
             "aws_security_group.worker cannot reach aws_security_group.worker on udp/51820: no ingress rule "
             "on aws_security_group.worker admits udp/51820 from itself"),
        ],
        flags=('--wireguard',),
    ),
    Case(
        "udp-every-pair",  # UDP 51820 between every pair
        {"base.tf": BASE, "main.tf": page("calico-wireguard").example_fixed},
        [],
        flags=('--wireguard',),
    ),
)
def test_findings(case: Case, tmp_path: Path) -> None:
    assert findings_of(RULE, case, tmp_path) == case.expected
