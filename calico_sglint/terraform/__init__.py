"""Terraform reader and evaluator: files -> parse -> evaluate -> `Configuration`.

Knows nothing of Calico; a plan reader produces the same `Configuration`."""
