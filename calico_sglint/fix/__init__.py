"""Fix stage: failed path findings -> the minimal missing rules -> HCL patches."""

# How `sglint fix` may write a rule: auto keeps each group's style (rule resources for a group without rules).
STYLES = ("auto", "rule", "vpc-rule", "inline")
