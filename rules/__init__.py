"""The built-in rule packs (YAML), shipped in the wheel as `calico_sglint.rules`; `sglint rules` lists them."""
