"""calico-sglint: lint Terraform AWS security groups for the paths Calico needs."""

__version__ = "0.1.0"
