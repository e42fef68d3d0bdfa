"""The code stays lint-clean: `ruff check .` with the repository's ruff.toml (CI runs this test)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing():
    out = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, f"ruff check . (fix with `ruff check --fix .`):\n{out.stdout}{out.stderr}"
