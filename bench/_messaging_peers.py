"""The peers of bench/messaging.py and bench/streams.py: moto's server (installed on first
use into a venv of its own under ~/.cache/lamina-bench, so Lamina's .venv is left as it is)
and MiniStack, found, started on loopback and free ports beside a Lamina server, and
stopped by the benchmark's Cleanup.
"""

from __future__ import annotations

import os
import subprocess
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import (  # noqa: E402
    LOOPBACK,
    MINISTACK_VERSION,
    Cleanup,
    LaminaServer,
    Row,
    free_port,
    ministack_python,
    peer_venv,
    scratch_dir,
    start_failure,
    start_ministack,
    wait_http,
)

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
        process = cleanup.process(
            subprocess.Popen(
                [python, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)],
                cwd=workdir,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=dict(os.environ, TMPDIR=workdir),
            )
        )
    url = f"http://{LOOPBACK}:{port}"
    try:
        wait_http(url + "/moto-api/", process, timeout_s=60)
    except RuntimeError as error:
        with open(log_path, errors="replace") as handle:
            raise RuntimeError(f"{error}: {handle.read()[-500:]}") from None
    return url, process


def moto_version(python: str) -> str:
    probe = subprocess.run(
        [python, "-c", "import moto; print(moto.__version__)"], capture_output=True, text=True, timeout=60
    )
    return probe.stdout.strip() or MOTO_VERSION


@dataclass
class Peers:
    moto: str | None = None  # a Python with moto[server], or None: not measured
    ministack: str | None = None  # a Python with MiniStack, or None
    moto_name: str = "moto"
    ministack_name: str = f"MiniStack {MINISTACK_VERSION}"


def find_peers(no_moto: bool, no_ministack: bool, notes: list[Row], section: str, what: str) -> Peers:
    """The peers this run measures; a note row for each one it does not, and why."""
    peers = Peers()
    if no_moto:
        notes.append(Row(section, what, "moto", extra="skipped (--no-moto)"))
    else:
        peers.moto, why = moto_python()
        if peers.moto is None:
            notes.append(Row(section, what, "moto", extra=f"not measured: {why}"))
        else:
            peers.moto_name = f"moto {moto_version(peers.moto)} (server)"
    if no_ministack:
        notes.append(Row(section, what, "MiniStack", extra="skipped (--no-ministack)"))
    else:
        peers.ministack, why = ministack_python()
        if peers.ministack is None:
            notes.append(Row(section, what, "MiniStack", extra=f"not measured: {why}"))
    return peers


def start_all(
    servers: Cleanup, work: str, lamina_dir: str, peers: Peers, failed: Callable[[str, str], None]
) -> list[tuple[str, str, int, bool]]:
    """Lamina and every peer, started at once: (name, url, pid, is Lamina) for each that came
    up; failed(system, why) for each that did not."""
    started = []
    try:
        server = LaminaServer(os.path.join(work, lamina_dir)).start(servers)
        started.append(("Lamina", server.url, server.process.pid, True))
    except Exception as error:  # noqa: BLE001 - reported in the table, traceback on stderr
        traceback.print_exc()
        failed("Lamina", start_failure(error))
    for name, python, start in (
        (peers.moto_name, peers.moto, start_moto),
        (peers.ministack_name, peers.ministack, start_ministack),
    ):
        if python is None:
            continue
        try:
            url, process = start(servers, python, scratch_dir(servers, name.split()[0].lower() + "-"))
            started.append((name, url, process.pid, False))
        except Exception as error:  # noqa: BLE001
            traceback.print_exc()
            failed(name.split()[0], start_failure(error))
    return started
