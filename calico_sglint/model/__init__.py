"""Model stage: a `Configuration` -> security groups, rules, node groups, roles."""
