"""The docs cannot drift: docs/options.md is what ``scripts/gen_options_doc.py`` makes from the
plugin's option registry, and every relative link of README.md and docs/*.md reaches a file (and
a heading, when it names one)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GENERATOR = ROOT / "scripts" / "gen_options_doc.py"
OPTIONS_DOC = ROOT / "docs" / "options.md"
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)


def generate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(GENERATOR), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_options_table_is_what_the_registry_makes(tmp_path):
    fresh = tmp_path / "options.md"
    done = generate("--out", str(fresh))
    assert done.returncode == 0, done.stderr
    assert OPTIONS_DOC.read_text() == fresh.read_text(), (
        "docs/options.md is stale: run python scripts/gen_options_doc.py and commit it"
    )
    table = [line for line in fresh.read_text().splitlines() if line.startswith("| `")]
    assert len(table) >= 30  # one row per setting
    goldens = next(line for line in table if line.startswith("| `goldens` |"))
    assert "`evals_goldens`" in goldens and "`--evals-goldens PATHS`" in goldens
    assert "`tests/goldens`" in goldens  # the registered default


def test_check_fails_when_a_row_is_missing_or_the_doc_is_absent(tmp_path):
    stale = tmp_path / "options.md"
    assert generate("--out", str(stale)).returncode == 0
    assert generate("--check", "--out", str(stale)).returncode == 0
    lines = stale.read_text().splitlines(keepends=True)
    stale.write_text("".join(line for line in lines if not line.startswith("| `repeat` |")))
    done = generate("--check", "--out", str(stale))
    assert done.returncode == 1
    assert "is stale: run python scripts/gen_options_doc.py" in done.stderr
    stale.unlink()
    assert generate("--check", "--out", str(stale)).returncode == 1


def slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text())
    return {slug(m) for m in re.findall(r"^#{1,6}\s+(.+?)\s*#*$", text, re.M)}


def broken_links(path: Path) -> list[str]:
    """The relative links of a Markdown file that reach no file or no heading."""
    broken = []
    for target in LINK.findall(FENCE.sub("", path.read_text())):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.exists():
            broken.append(f"{target} (no file {dest})")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target} (no heading #{anchor} in {dest.name})")
    return broken


DOCS = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    *sorted((ROOT / "examples").glob("*/README.md")),
]


@pytest.mark.parametrize("path", DOCS, ids=[str(p.relative_to(ROOT)) for p in DOCS])
def test_every_relative_link_resolves(path):
    assert broken_links(path) == []


def test_the_link_check_catches_a_missing_file_and_a_missing_heading(tmp_path):
    (tmp_path / "a.md").write_text("# A page\n\n## The gate, and what it counts\n")
    page = tmp_path / "b.md"
    page.write_text(
        "[ok](a.md#the-gate-and-what-it-counts) [ok](#here) [web](https://example.org)\n"
        "## Here\n```\n[not a link](nowhere.md)\n```\n"
        "[gone](missing.md) [no heading](a.md#the-gate)\n"
    )
    assert broken_links(page) == [
        f"missing.md (no file {tmp_path / 'missing.md'})",
        "a.md#the-gate (no heading #the-gate in a.md)",
    ]


def test_the_readme_opens_with_the_quick_start_and_links_into_docs():
    text = (ROOT / "README.md").read_text()
    first = text.split("\n## ", 1)[1]
    assert first.startswith("Quick start\n"), "README.md must open with ## Quick start"
    assert "```bash\nbash scripts/setup.sh && .venv/bin/python -m pytest tests/evals\n" in first
    linked = {Path(t.partition("#")[0]).name for t in LINK.findall(text) if t.startswith("docs/")}
    pages = {p.name for p in (ROOT / "docs").glob("*.md")}
    assert pages - linked == set(), "docs pages the README does not link"


BLOCK = re.compile(r"^```(yaml|toml)\n(.*?)^```", re.S | re.M)


@pytest.mark.parametrize("path", DOCS, ids=[str(p.relative_to(ROOT)) for p in DOCS])
def test_every_yaml_and_toml_example_parses(path):
    """A user copies the examples: each ```yaml / ```toml block must be valid as written."""
    import tomllib

    import yaml

    bad = []
    text = path.read_text(encoding="utf-8")
    for match in BLOCK.finditer(text):
        kind, body = match.groups()
        line = text[: match.start()].count("\n") + 1
        try:
            yaml.safe_load(body) if kind == "yaml" else tomllib.loads(body)
        except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
            bad.append(f"{path.name}:{line}: {kind}: {str(exc).splitlines()[0]}")
    assert bad == []
