"""`sglint diff`: read two sides of a change from git, check both, compare the results."""
