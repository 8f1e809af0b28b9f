"""S3: small-object operations beside moto's server and MiniStack, large-object throughput
beside `dd`, the server's memory during a large transfer, and upload -> function started.

    .venv/bin/python bench/storage.py [--quick] [--no-moto] [--no-ministack] [--size-mib N]

Starts everything it measures on loopback and free ports (a Lamina server, `python -m
moto.server` from its own venv under ~/.cache/lamina-bench/moto, MiniStack from its own
venv via bench/_common), in this one run, prints the machine and one markdown table, and
stops what it started.

Rows (see docs/benchmarks.md for how to read them):
 1  1 KiB PutObject + GetObject through boto3 (path-style), 4 threads each with its own
    client, each looping PUT then GET of its own keys; operations (PUTs and GETs) per second
    against Lamina, moto and MiniStack. Target: Lamina >= 2x the faster peer.
 2  One 1 GiB object: PutObject from a file (one request, boto3's default trailing CRC32)
    and GetObject read to the end in 1 MiB pieces, MB/s (10^6 bytes), beside `dd` writing
    the same size to the same file system (bs=1M, conv=fsync) and reading it back
    (iflag=direct: from the disk, where Lamina's GET may find the page cache warm). Target:
    >= 0.5x dd.
 3  The Lamina server's RSS growth (its peak during the transfer minus its RSS before),
    sampled every 20 ms during row 2's PUT and GET. Target: <= 64 MB.
 4  Upload -> function started: PutObject of a small object into a bucket whose
    notification configuration invokes a python3.12 function on s3:ObjectCreated:*; the
    time from just before the PUT to the function's first line (its clock: same machine),
    p50 and p99 over N uploads one at a time (the function warm after the first).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _messaging_peers as peers  # noqa: E402
from _common import (  # noqa: E402
    Cleanup,
    LaminaServer,
    Row,
    Summary,
    Table,
    boto3_client,
    create_function,
    factor_text,
    log,
    memory_kb,
    ms,
    peer_arguments,
    peer_ratio,
    print_header,
    rate,
    scratch_dir,
)

MiB = 1024 * 1024


@dataclass
class Counts:
    ops_s: float
    size_mib: int
    uploads: int

    @classmethod
    def of(cls, quick: bool, size_mib: int | None) -> Counts:
        return cls(
            ops_s=5.0 if quick else 15.0, size_mib=size_mib or (256 if quick else 1024), uploads=10 if quick else 40
        )


def _path_style(url: str, pool: int):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(
            retries={"max_attempts": 1},
            read_timeout=600,
            connect_timeout=5,
            max_pool_connections=pool,
            s3={"addressing_style": "path"},
        ),
    )


# --- 1. small objects ----------------------------------------------------------------------------


def small_ops(url: str, seconds: float, threads: int = 4) -> float:
    """PUT+GET operations per second of 1 KiB objects from `threads` clients."""
    bucket = f"bench-small-{int(time.time() * 1000)}"
    _path_style(url, 4).create_bucket(Bucket=bucket)
    body = os.urandom(1024)
    counts = [0] * threads
    errors: list[BaseException] = []
    start = threading.Barrier(threads + 1)
    stop_at = [0.0]

    def work(index: int) -> None:
        client = _path_style(url, 2)
        client.put_object(Bucket=bucket, Key=f"warm-{index}", Body=body)  # connection made before timing
        start.wait()
        n = 0
        try:
            while time.monotonic() < stop_at[0]:
                key = f"t{index}/k{n % 200}"
                client.put_object(Bucket=bucket, Key=key, Body=body)
                got = client.get_object(Bucket=bucket, Key=key)["Body"].read()
                assert len(got) == 1024
                n += 1
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        counts[index] = 2 * n

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.monotonic()
    stop_at[0] = began + seconds
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - began
    if errors:
        raise errors[0]
    return sum(counts) / elapsed


# --- 2, 3. one large object ---------------------------------------------------------------------------


class RssSampler:
    def __init__(self, pid: int, every_s: float = 0.02) -> None:
        self.pid, self.every_s = pid, every_s
        self.base = memory_kb(pid).get("Rss", 0)
        self.peak = self.base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, memory_kb(self.pid).get("Rss", 0))
            time.sleep(self.every_s)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.base) * 1024 / 1e6


def make_file(path: str, size: int) -> None:
    chunk = os.urandom(MiB)
    with open(path, "wb") as handle:
        for _ in range(size // MiB):
            handle.write(chunk)


def large_transfer(url: str, pid: int, path: str, size: int) -> tuple[float, float, float, float]:
    """(PUT MB/s, GET MB/s, RSS growth MB during PUT, during GET)."""
    client = _path_style(url, 2)
    bucket = f"bench-large-{int(time.time() * 1000)}"
    client.create_bucket(Bucket=bucket)
    with RssSampler(pid) as put_rss, open(path, "rb") as handle:
        began = time.monotonic()
        client.put_object(Bucket=bucket, Key="big", Body=handle)
        put_s = time.monotonic() - began
    with RssSampler(pid) as get_rss:
        began = time.monotonic()
        body = client.get_object(Bucket=bucket, Key="big")["Body"]
        read = 0
        for piece in iter(lambda: body.read(MiB), b""):
            read += len(piece)
        get_s = time.monotonic() - began
    assert read == size, (read, size)
    client.delete_object(Bucket=bucket, Key="big")
    client.delete_bucket(Bucket=bucket)
    return size / put_s / 1e6, size / get_s / 1e6, put_rss.growth_mb, get_rss.growth_mb


def dd_rates(directory: str, size: int) -> tuple[float, float]:
    """dd's write (bs=1M, conv=fsync) and read-back rates in MB/s on `directory`'s file system."""
    target = os.path.join(directory, "dd-test")
    began = time.monotonic()
    subprocess.run(
        ["dd", "if=/dev/zero", f"of={target}", "bs=1M", f"count={size // MiB}", "conv=fsync"],
        check=True,
        capture_output=True,
    )
    write_s = time.monotonic() - began
    began = time.monotonic()
    # O_DIRECT: the disk, not the page cache the write left behind.
    subprocess.run(["dd", f"if={target}", "of=/dev/null", "bs=1M", "iflag=direct"], check=True, capture_output=True)
    read_s = time.monotonic() - began
    os.remove(target)
    return size / write_s / 1e6, size / read_s / 1e6


# --- 4. upload -> function started ------------------------------------------------------------------


STARTED = """
import time

def handler(event, context):
    print("STARTED", repr(time.time()), event["Records"][0]["s3"]["object"]["key"])
"""


def upload_to_start(url: str, uploads: int) -> Summary:
    lambda_client = boto3_client(url)
    s3 = _path_style(url, 2)
    logs = boto3_client(url, "logs")
    name = f"bench-notified-{int(time.time())}"
    bucket = f"{name}-bucket"
    s3.create_bucket(Bucket=bucket)
    create_function(lambda_client, name, STARTED, memory_mb=256)
    lambda_client.add_permission(
        FunctionName=name,
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn=f"arn:aws:s3:::{bucket}",
    )
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": lambda_client.get_function(FunctionName=name)["Configuration"]["FunctionArn"],
                 "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )  # fmt: skip
    sent: dict[str, float] = {}
    for n in range(uploads + 1):  # the first one starts the function cold: not counted
        key = f"u{n:04d}"
        sent[key] = time.time()
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
        time.sleep(0.25)
    started: dict[str, float] = {}
    deadline = time.monotonic() + 60
    while len(started) < len(sent) and time.monotonic() < deadline:
        token = None
        while True:
            page = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}", **({"nextToken": token} if token else {}))
            for event in page.get("events", []):
                parts = event["message"].split()
                if len(parts) == 3 and parts[0] == "STARTED":
                    started[parts[2]] = float(parts[1])
            token = page.get("nextToken")
            if not token:
                break
        time.sleep(0.5)
    return Summary([(started[k] - sent[k]) * 1000 for k in sorted(sent)[1:] if k in started])


# --- the run -----------------------------------------------------------------------------------------


def main() -> int:
    parser = peer_arguments(__doc__, "5 s of small objects, 256 MiB, 10 uploads")
    parser.add_argument("--size-mib", type=int, default=None, help="the large object's size (default 1024)")
    args = parser.parse_args()
    counts = Counts.of(args.quick, args.size_mib)
    print_header(args.quick)
    table = Table()
    notes: list[Row] = []
    found = peers.find_peers(args.no_moto, args.no_ministack, notes, "1", "1 KiB PUT+GET")
    with Cleanup() as cleanup:
        work = scratch_dir(cleanup, "lamina-bench-storage-")
        # 1. Every server started at once, measured in turn.
        with Cleanup() as servers:
            started = peers.start_all(
                servers,
                work,
                "lamina-small",
                found,
                lambda n, why: notes.append(Row("1", "1 KiB PUT+GET", n, extra=why)),
            )
            lamina_rate = None
            results = []
            for name, url, _pid, is_lamina in started:
                log(f"1: {name}")
                try:
                    value = small_ops(url, counts.ops_s)
                except Exception as error:  # noqa: BLE001
                    traceback.print_exc()
                    notes.append(
                        Row("1", "1 KiB PUT+GET", name, extra=f"failed: {type(error).__name__}: {error}"[:200])
                    )
                    continue
                results.append((name, value, is_lamina))
                if is_lamina:
                    lamina_rate = value
            best_peer = max((v for _, v, lamina in results if not lamina), default=None)
            for name, value, is_lamina in results:
                row = Row("1", "1 KiB PUT+GET, 4 boto3 clients", name, extra=f"{rate(value)} ops/s")
                if is_lamina:
                    row.target = ">= 2x the faster peer"
                    if best_peer:
                        row.compare = f"{factor_text(value / best_peer)} the faster peer"
                else:
                    row.compare = peer_ratio(value, lamina_rate)
                table.add(row)
        # 2-4. A fresh Lamina server.
        server = LaminaServer(os.path.join(work, "lamina-large")).start(cleanup)
        size = counts.size_mib * MiB
        source = os.path.join(work, "large-source")
        log(f"2: a {counts.size_mib} MiB file")
        make_file(source, size)
        put_rate, get_rate, put_growth, get_growth = large_transfer(server.url, server.process.pid, source, size)
        os.remove(source)
        dd_write, dd_read = dd_rates(server.data_dir, size)
        what = f"{counts.size_mib} MiB object"
        table.add(Row("2", f"{what}: PutObject", "Lamina", extra=f"{put_rate:,.0f} MB/s", target=">= 0.5x dd",
                      compare=f"{factor_text(put_rate / dd_write)} dd"))  # fmt: skip
        table.add(Row("2", f"{what}: GetObject", "Lamina", extra=f"{get_rate:,.0f} MB/s", target=">= 0.5x dd",
                      compare=f"{factor_text(get_rate / dd_read)} dd"))  # fmt: skip
        table.add(Row("2", "dd bs=1M conv=fsync, same file system: write", "dd", extra=f"{dd_write:,.0f} MB/s"))
        table.add(Row("2", "dd bs=1M iflag=direct, read back", "dd", extra=f"{dd_read:,.0f} MB/s"))
        table.add(Row("3", f"server RSS growth during the {what}'s PUT", "Lamina", extra=f"{put_growth:,.1f} MB",
                      target="<= 64 MB"))  # fmt: skip
        table.add(Row("3", f"server RSS growth during the {what}'s GET", "Lamina", extra=f"{get_growth:,.1f} MB",
                      target="<= 64 MB"))  # fmt: skip
        log("4: upload -> function started")
        latency = upload_to_start(server.url, counts.uploads)
        table.add(Row("4", "upload -> function started (ObjectCreated -> Lambda)", "Lamina", n=str(latency.n),
                      p50=ms(latency.p50), p99=ms(latency.p99), extra=f"mean {ms(latency.mean)}"))  # fmt: skip
    for row in notes:
        table.add(row)
    print(table.markdown())
    if note := LaminaServer.leftovers_note():
        print()
        print(note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
