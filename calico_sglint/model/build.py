"""Model stage: evaluated resources -> security groups, their rules, and node groups.

Follows the AWS provider's semantics: protocols normalised (`-1`/`all`, 6/17/1/58 become
tcp/udp/icmp/icmpv6, other numbers stay numbers), ports "all" where the protocol has none,
one rule per block or resource with every peer it names. Nothing here knows about Calico.
Security groups and rules are built in `model.resources`, node groups in `model.nodes`.
"""

from __future__ import annotations

from calico_sglint.model.nodes import (
    NETWORK_READS,
    NODE_GROUP_BUILDERS,
    build_node_groups,
)
from calico_sglint.model.resources import (
    RULE,
    SECURITY_GROUP,
    VPC_EGRESS,
    VPC_INGRESS,
    Resources,
)
from calico_sglint.model.types import Model
from calico_sglint.terraform.configuration import Configuration

SECURITY_GROUP_TYPES = frozenset({SECURITY_GROUP, RULE, VPC_INGRESS, VPC_EGRESS})
COMPUTE_TYPES = frozenset(builder.resource_type for builder in NODE_GROUP_BUILDERS)
# The top-level attributes and blocks this stage reads of each compute and network resource
# type; the rest (ami, user_data, block devices, ...) is never evaluated. Security groups
# and their rules are read whole.
_READS = {builder.resource_type: builder.reads for builder in NODE_GROUP_BUILDERS} | dict(NETWORK_READS)
RESOURCE_TYPES = SECURITY_GROUP_TYPES | frozenset(_READS)


def attributes_read(resource_type: str) -> frozenset[str] | None:
    """What the model reads of a resource type's top level (None: everything)."""
    return None if resource_type in SECURITY_GROUP_TYPES else _READS.get(resource_type, frozenset())


def build_model(config: Configuration) -> Model:
    """The security groups and node groups of one evaluated root module."""
    return Resources(config).model(build_node_groups)
