"""Draw the README's picture of the incident graph from the code, never by hand.

Renders `sglint graph examples/typha-blocked` as DOT with Graphviz into
docs/images/typha-blocked.svg, and writes the same graph's mermaid between the README's
`<!-- graph: typha-blocked -->` markers. `--check` writes nothing and exits 1 when either is
stale (tests/test_pictures.py runs it).

    python tools/readme_graph.py          # needs graphviz (`dot`) and sglint installed
    python tools/readme_graph.py --check
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = "examples/typha-blocked"
SVG = REPO / "docs" / "images" / "typha-blocked.svg"
README = REPO / "README.md"
MARKERS = re.compile(r"(<!-- graph: typha-blocked -->\n```mermaid\n)(.*?)(```\n)", re.S)


def graph(output_format: str) -> str:
    command = [sys.executable, "-m", "calico_sglint", "graph", EXAMPLE, "--format", output_format]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True).stdout


def svg() -> str:
    dot = shutil.which("dot")
    if dot is None:
        raise SystemExit("readme_graph: graphviz (dot) is not installed")
    drawn = subprocess.run([dot, "-Tsvg"], input=graph("dot"), capture_output=True, text=True, check=True)
    return drawn.stdout


def readme(text: str) -> str:
    if not MARKERS.search(text):
        raise SystemExit("readme_graph: no '<!-- graph: typha-blocked -->' mermaid block in README.md")
    mermaid = graph("mermaid")
    return MARKERS.sub(lambda m: m.group(1) + mermaid + m.group(3), text)


def main(argv: list[str]) -> int:
    wanted = {SVG: svg(), README: readme(README.read_text(encoding="utf-8"))}
    stale = [path for path, text in wanted.items()
             if not path.is_file() or path.read_text(encoding="utf-8") != text]
    if "--check" in argv:
        for path in stale:
            print(f"readme_graph: {path.relative_to(REPO)} is stale: run python tools/readme_graph.py")
        return 1 if stale else 0
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(wanted[path], encoding="utf-8")
        print(f"readme_graph: wrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
