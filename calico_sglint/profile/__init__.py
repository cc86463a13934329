"""Calico knowledge as data: the profile, where it is detected, rule packs, the config file."""
