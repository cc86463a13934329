"""calico-sglint: lint Terraform AWS security groups for the paths Calico needs."""

# The version, in one place: pyproject.toml reads it (dynamic), SARIF and --version print it,
# and a release is the tag v<version> on the commit that sets it (CHANGELOG.md).
__version__ = "0.1.0"
