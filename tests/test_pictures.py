"""The pictures as people see them: the DOT output rendered by Graphviz (`dot`, Debian's
graphviz) and the mermaid output rendered by the mermaid library in headless Chromium
(Debian's chromium; the npm package `mermaid`, installed by `tools/install-test-tools.sh`).
Each test skips cleanly where its renderer is absent; none uses the network.

Screenshots of `examples/typha-blocked` go to $SGLINT_SCREENSHOT_DIR, else a temp dir, never
the repository.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO

from calico_sglint.render.diagram import build_graphs, drawn_edges, mermaid

MERMAID_JS = Path(os.environ.get(
    "SGLINT_MERMAID_JS",
    Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "calico-sglint-tests" / "node_modules" / "mermaid" / "dist" / "mermaid.min.js",
))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DOT = shutil.which("dot")
DRAWN = ["examples/typha-blocked", "examples/cluster-sg", "fixtures/profile-crosssubnet",
         "fixtures/check-exposed", "fixtures/check-unverified", "fixtures/detect-multi-root"]
HEX = re.compile(r"#[0-9a-fA-F]+\b")


def screenshot_dir(tmp_path: Path) -> Path:
    chosen = Path(os.environ.get("SGLINT_SCREENSHOT_DIR") or tmp_path / "screenshots")
    chosen.mkdir(parents=True, exist_ok=True)
    assert REPO not in chosen.resolve().parents, "screenshots stay out of the repository"
    return chosen


def graph_text(sglint: Any, path: str, output_format: str) -> str:
    result = sglint("graph", path, "--format", output_format)
    assert result.code == 0, result.stderr
    return result.stdout


# --- Graphviz ----------------------------------------------------------------------------


def test_every_dot_colour_is_six_digit_hex(sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    """Graphviz knows #rrggbb, not #rgb (it draws unknown colours black)."""
    for path in DRAWN:
        colours = HEX.findall(graph_text(sglint, path, "dot"))
        assert colours and all(len(c) == 7 for c in colours), (path, colours)


@pytest.mark.skipif(DOT is None, reason="graphviz (dot) is not installed")
def test_graphviz_draws_missing_paths_red_and_open_paths_green(sglint, in_repo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = graph_text(sglint, "examples/typha-blocked", "dot")
    rendered = subprocess.run([DOT, "-Tsvg"], input=source, capture_output=True, text=True, timeout=60)
    assert (rendered.returncode, rendered.stderr) == (0, "")
    svg = rendered.stdout
    edges = re.findall(r'<g id="edge\d+" class="edge">(.*?)</g>', svg, re.S)
    strokes = [re.search(r'<path [^>]*stroke="([^"]+)"', e).group(1) for e in edges]  # type: ignore[union-attr]
    labels = [" ".join(html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", e)) for e in edges]
    assert list(zip(labels, strokes)) == [
        ("tcp/10250 udp/4789", "#22aa22"),
        ("missing: tcp/5473", "#dd0000"),
        ("tcp/6443 udp/4789", "#22aa22"),
        ("missing: tcp/5473", "#dd0000"),
        ("tcp/5473 udp/4789", "#22aa22"),
    ]
    assert 'stroke="black"' not in "".join(edges)
    legend = re.search(r'<title>legend</title>(.*?)</g>', svg, re.S)
    assert legend is not None
    assert re.findall(r'<text[^>]*fill="(#[0-9a-f]{6})"[^>]*>([^<]*)</text>', legend.group(1)) == [
        ("#22aa22", "green solid: open"), ("#dd0000", "red dashed: missing"),
    ]
    png = screenshot_dir(tmp_path) / "typha-blocked-dot.png"
    subprocess.run([DOT, "-Tpng", "-o", str(png)], input=source, text=True, check=True, timeout=60)
    assert png.stat().st_size > 1000


# --- mermaid in a browser ----------------------------------------------------------------


def chromium(page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium on a local page, with its own profile (parallel runs share none)."""
    profile = page.parent / "chromium-profile"
    command = [CHROMIUM or "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               f"--user-data-dir={profile}", "--allow-file-access-from-files",
               "--virtual-time-budget=15000", "--window-size=1000,800", *args, page.as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def mermaid_page(diagrams: dict[str, str], target: Path) -> Path:
    template = (REPO / "tests" / "data" / "mermaid-page.html").read_text()
    cases = "\n".join(f'<div class="case" id="{name}"><pre class="mermaid">{html.escape(text)}</pre></div>'
                      for name, text in diagrams.items())
    target.write_text(template.replace("__CASES__", cases).replace("__MERMAID_JS__", MERMAID_JS.as_uri()))
    return target


def render_in_browser(diagrams: dict[str, str], tmp_path: Path) -> dict[str, Any]:
    page = mermaid_page(diagrams, tmp_path / "diagrams.html")
    dom = chromium(page, "--dump-dom").stdout
    found = re.search(r'<pre id="result"[^>]*>(.*?)</pre>', dom, re.S)
    assert found is not None, dom[-2000:]
    result = json.loads(html.unescape(found.group(1)))
    assert "error" not in result, result
    return result["cases"]  # type: ignore[no-any-return]


def overlapping(boxes: list[dict[str, Any]], others: list[dict[str, Any]]) -> list[tuple[str, str]]:
    def meet(a: dict[str, Any], b: dict[str, Any]) -> bool:
        return bool(a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"]
                    and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"])

    return [(a["text"], b["text"]) for i, a in enumerate(boxes) for b in others[i + 1 if others is boxes else 0:]
            if a is not b and meet(a, b)]


needs_browser = pytest.mark.skipif(
    CHROMIUM is None or not MERMAID_JS.is_file(),
    reason="chromium or the mermaid npm package is absent (tools/install-test-tools.sh installs them)",
)


@pytest.mark.slow
@needs_browser
def test_mermaid_in_a_browser_shows_every_label_without_overlaps(in_repo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from calico_sglint.pipeline import CheckOptions, ReadOptions, check

    results = {path: check(CheckOptions(ReadOptions(paths=(path,)), {}, None, ())) for path in DRAWN}
    diagrams = {re.sub(r"\W", "_", path): mermaid(build_graphs(r)) for path, r in results.items()}
    cases = render_in_browser(diagrams, tmp_path)
    for path, result in results.items():
        case = cases[re.sub(r"\W", "_", path)]
        labels = [box for box in case["labels"] if box["text"]]
        expected = ["\n".join(lines) for graph in build_graphs(result) for _, lines in drawn_edges(graph)]
        assert sorted(box["text"] for box in labels) == sorted(expected), path
        assert overlapping(labels, labels) == [], path
        assert overlapping(labels, case["nodes"]) == [], path
        legend = [n["text"] for n in case["nodes"] if n["text"].startswith("legend")]
        assert len(legend) == 1 and "green solid: open" in legend[0], path
    loop = [b["text"] for b in cases["fixtures_profile_crosssubnet"]["labels"] if b["text"]]
    assert loop == ["missing: all traffic\nopen: tcp/5473\nudp/4789"]  # one loop, neither hidden


@pytest.mark.slow
@needs_browser
def test_a_screenshot_of_the_incident_in_mermaid(sglint, in_repo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = mermaid_page({"typha": graph_text(sglint, "examples/typha-blocked", "mermaid")}, tmp_path / "typha.html")
    png = screenshot_dir(tmp_path) / "typha-blocked-mermaid.png"
    chromium(page, f"--screenshot={png}")
    assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


# --- the README's picture ----------------------------------------------------------------


def graphviz_version(text: str) -> str | None:
    found = re.search(r"graphviz version (\S+)", text)
    return found.group(1) if found else None


@pytest.mark.slow
@pytest.mark.skipif(DOT is None, reason="graphviz (dot) is not installed")
def test_the_readme_picture_is_drawn_from_the_code() -> None:
    """`tools/readme_graph.py --check`: the committed SVG and the README's mermaid block are
    what the script draws today (Graphviz's layout differs between its versions)."""
    committed = (REPO / "docs" / "images" / "typha-blocked.svg").read_text()
    installed = subprocess.run([DOT or "dot", "-V"], capture_output=True, text=True).stderr
    if graphviz_version(committed) != graphviz_version(installed):
        pytest.skip(f"the picture was drawn by graphviz {graphviz_version(committed)}, this is {installed.strip()}")
    result = subprocess.run([sys.executable, "tools/readme_graph.py", "--check"], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    readme = (REPO / "README.md").read_text()
    assert "![The graph of examples/typha-blocked" in readme and "(docs/images/typha-blocked.svg)" in readme
