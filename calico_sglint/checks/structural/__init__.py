"""The structural checks: each declared once, in its own module, and listed here.

A check's page (title, severity, why, fix, example) is its rule in rules/*.yaml, with the
same id; a test holds the two lists equal.
"""

from __future__ import annotations

from calico_sglint.checks.structural import (
    cross_reference,
    cycle,
    duplicate_rule,
    exposed,
    mixed_styles,
    module_unreadable,
    no_node_groups,
    no_security_groups,
    src_dst_check,
    unknown_reference,
)
from calico_sglint.checks.structural.base import CheckContext, StructuralCheck

STRUCTURAL_CHECKS: tuple[StructuralCheck, ...] = tuple(
    module.CHECK
    for module in (
        cycle, cross_reference, exposed, duplicate_rule, mixed_styles, unknown_reference, src_dst_check,
        module_unreadable, no_node_groups, no_security_groups,
    )
)

__all__ = ["STRUCTURAL_CHECKS", "CheckContext", "StructuralCheck"]
