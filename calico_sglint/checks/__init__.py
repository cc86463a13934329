"""Checks stage: the reachability graph, path requirements and structural checks -> findings."""
