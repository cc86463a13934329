"""Fix stage: failed path findings -> the minimal missing rules -> HCL patches."""
