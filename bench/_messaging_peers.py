"""moto's server, a peer for bench/messaging.py: installed on first use into a venv of its
own under ~/.cache/lamina-bench (so Lamina's .venv is left as it is), started on loopback
and a free port, stopped by the benchmark's Cleanup.
"""
from __future__ import annotations

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import LOOPBACK, Cleanup, free_port, peer_venv, wait_http  # noqa: E402

MOTO_VERSION = "5.2.5"


def moto_python() -> tuple[str | None, str]:
    """A Python that has moto[server]: $LAMINA_BENCH_MOTO_PYTHON, or a private venv under
    ~/.cache/lamina-bench/moto made on first use. Returns (python or None, why not)."""
    override = os.environ.get("LAMINA_BENCH_MOTO_PYTHON")
    if override:
        return override, ""
    return peer_venv("moto", f"moto[server]=={MOTO_VERSION}", "moto", MOTO_VERSION)


def start_moto(cleanup: Cleanup, python: str, workdir: str) -> tuple[str, subprocess.Popen]:
    """`python -m moto.server` (werkzeug, threaded) on loopback; returns (url, process)."""
    port = free_port()
    log_path = os.path.join(workdir, "moto.log")
    with open(log_path, "ab") as log_file:
        process = cleanup.process(subprocess.Popen(
            [python, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)],
            cwd=workdir, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=dict(os.environ, TMPDIR=workdir),
        ))
    url = f"http://{LOOPBACK}:{port}"
    try:
        wait_http(url + "/moto-api/", process, timeout_s=60)
    except RuntimeError as error:
        with open(log_path, errors="replace") as handle:
            raise RuntimeError(f"{error}: {handle.read()[-500:]}") from None
    return url, process


def moto_version(python: str) -> str:
    probe = subprocess.run([python, "-c", "import moto; print(moto.__version__)"], capture_output=True, text=True,
                           timeout=60)
    return probe.stdout.strip() or MOTO_VERSION
