"""What an `aws_eks_cluster` says about the profile: EKS serves the Kubernetes API on 443."""

from __future__ import annotations

from calico_sglint.profile.observations import COMPONENT, Found, Observation
from calico_sglint.terraform.configuration import Configuration

EKS_APISERVER_PORT = 443


def eks_observations(configuration: Configuration) -> Found:
    """apiserver_port=443 from the root's first `aws_eks_cluster`, pointing at it."""
    for instance in configuration.resources:
        if instance.type == "aws_eks_cluster" and instance.mode == "managed":
            location = instance.body.location
            return Found((Observation(
                "apiserver_port", EKS_APISERVER_PORT, location.file, location.line,
                "aws_eks_cluster", f"{instance.address} (EKS serves the API on 443)", COMPONENT,
            ),))
    return Found()
