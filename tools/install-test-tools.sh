#!/usr/bin/env bash
# Install what tests/test_pictures.py renders with; without them those tests skip.
#   graphviz, chromium: Debian packages (needs root, or run the apt-get line with sudo)
#   mermaid: the npm package, into ~/.cache/calico-sglint-tests (SGLINT_MERMAID_JS overrides)
# The tests themselves never use the network.
set -euo pipefail
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  apt-get update -q
  apt-get install -y -q graphviz chromium
else
  echo "install-test-tools: install graphviz and chromium with your package manager" >&2
fi
cache="${XDG_CACHE_HOME:-$HOME/.cache}/calico-sglint-tests"
mkdir -p "$cache"
npm install --no-save --no-audit --no-fund --prefix "$cache" mermaid@11
echo "install-test-tools: mermaid at $cache/node_modules/mermaid/dist/mermaid.min.js"
