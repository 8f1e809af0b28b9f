"""scripts/coverage.py: it runs, and the Coverage section of docs/manual.md is current (an
operation implemented, or a botocore upgrade, without `make coverage` fails here)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "coverage.py")


def _load():
    spec = importlib.util.spec_from_file_location("lamina_coverage_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up
    spec.loader.exec_module(module)
    return module


def test_the_script_runs_and_prints_a_table_per_service():
    done = subprocess.run([sys.executable, SCRIPT], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "implements: **" in done.stdout
    for service in ("lambda", "sqs", "sns", "kinesis", "events", "logs", "iam", "sts"):
        assert f"<details><summary>{service}: " in done.stdout
    assert "| Invoke | yes |" in done.stdout


def test_the_manual_coverage_section_is_current():
    coverage = _load()
    with open(coverage.MANUAL, encoding="utf-8") as handle:
        section = coverage.manual_section(handle.read())
    assert section is not None, "docs/manual.md has lost its coverage markers"
    assert section == coverage.markdown(coverage.coverage()), (
        "docs/manual.md's Coverage section is stale: run `make coverage` (python scripts/coverage.py --write)"
    )
