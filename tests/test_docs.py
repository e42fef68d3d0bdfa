"""The README and docs/ stay true: links resolve, files named in code and docs exist, and the
README's test command (the one CI runs) runs the whole suite."""
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIP_DIRS = {".git", "shots", "__pycache__", ".hypothesis", ".pytest_cache", "build", ".venv", "venv"}
SOURCES = sorted(p for p in ROOT.rglob("*") if p.suffix in (".py", ".md") and p.is_file()
                 and not SKIP_DIRS & set(p.relative_to(ROOT).parts))
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "benchmarks" / "README.md"]
# A repository path written in prose or a comment: tests/test_engine.py, docs/set.md, mlp/default_model.npz ...
NAMED_PATH = re.compile(r"(?<![\w/.])((?:tests|scripts|benchmarks|mlp|ui|docs)/[\w/.-]*\w\.(?:py|md|npz|png|csv))")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("source", SOURCES, ids=rel)
def test_every_file_a_source_names_exists(source):
    missing = [name for name in NAMED_PATH.findall(source.read_text(encoding="utf-8"))
               if not (ROOT / name).exists()]
    assert not missing, f"{rel(source)} names files that do not exist: {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=rel)
def test_every_relative_link_resolves(doc):
    links = [link for link in LINK.findall(doc.read_text(encoding="utf-8")) if "://" not in link]
    missing = [link for link in links if not (doc.parent / link).exists()]
    assert not missing, f"{rel(doc)} links to files that do not exist: {missing}"


def test_readme_is_a_front_page():
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 180


def test_the_ci_test_command_runs_the_whole_suite():
    # .ci/run executes the line after <!-- test-command --> in README.md; read it the same way.
    command = subprocess.run(
        ["awk", "/<!-- test-command -->/{found=1; next} found && /^```/{if (infence) exit; infence=1; next} "
                "infence{print; exit}", "README.md"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert command.strip().endswith("python -m pytest"), command   # no -m, -k or path: everything
    assert "requirements-test.txt" in command
