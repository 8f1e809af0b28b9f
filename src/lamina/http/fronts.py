"""Front processes: HTTP, SigV4 and the AWS wire protocols on cores of their own.

The core process runs the services and the engine on one event loop, and that loop was
the ceiling: on a busy server, half of its time went to reading requests, checking
signatures, parsing and serializing. So `lamina serve` forks LAMINA_HTTP_WORKERS fronts
(default: one per CPU beyond the first, at most 4; 0 keeps everything in one process).
Each front accepts connections on the shared listening socket, answers HTTP, checks
SigV4, parses the request with botocore's model, sends the parsed call to the core over
its link (http/link.py), and serializes the answer. Lamina's own paths (/_lamina/...,
/metrics) are forwarded to the core as they are.

Lifecycle:
- fronts are forked before the core builds anything (no threads yet: fork and threads do
  not mix); they hold only the router, the verifier and the listening socket;
- a front starts accepting once the core says it is ready (its first frame), so requests
  that arrive during startup wait in the listen backlog;
- a front dies with the core (PR_SET_PDEATHSIG, so a kill -9 of the server leaves no
  front holding the port), and leaves when its link closes or on SIGTERM; it ignores
  SIGINT, which a terminal sends to the whole process group: the core decides;
- if a front dies, the core logs it; once none is left, the core accepts connections
  itself.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import signal
import socket
from dataclasses import dataclass

from ..gateway import Gateway, UserKeys
from ..protocol.router import Router
from ..protocol.sigv4 import Verifier
from .link import CoreLink, FrontLink
from .server import HttpProtocol

log = logging.getLogger("lamina.fronts")

_PR_SET_NAME, _PR_SET_PDEATHSIG = 15, 1
KEYS_CHECK_S = 0.1  # how often the core looks for a change in IAM users' keys
NAME = b"lamina-front"  # the process name (comm) a front runs under, for ps and the benchmarks
BACKLOG = 2048


def default_count() -> int:
    return max(0, min(len(os.sched_getaffinity(0)) - 1, 4))


@dataclass
class Front:
    index: int
    pid: int
    link_socket: socket.socket  # the core's end
    link: FrontLink | None = None
    exited: bool = False


def fork(count: int, listener: socket.socket, router: Router, verifier: Verifier, endpoint_url: str) -> Fronts:
    """Fork `count` fronts; call before anything starts a thread."""
    fronts: list[Front] = []
    core = os.getpid()
    for index in range(count):
        core_end, front_end = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                core_end.close()
                for other in fronts:
                    other.link_socket.close()
                _become_front(core)
                _run(listener, front_end, router, verifier, endpoint_url)
                status = 0
            except BaseException:  # noqa: BLE001 - a front must never return into the core's code
                log.exception("front %d failed", index)
            finally:
                logging.shutdown()
                os._exit(status)
        front_end.close()
        fronts.append(Front(index, pid, core_end))
    return Fronts(fronts, listener)


def _become_front(core: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != core:  # the core died before the line above took effect
        os._exit(0)
    libc.prctl(_PR_SET_NAME, ctypes.c_char_p(NAME), 0, 0, 0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _run(
    listener: socket.socket, link_socket: socket.socket, router: Router, verifier: Verifier, endpoint_url: str
) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(_serve(listener, link_socket, router, verifier, endpoint_url))


async def _serve(
    listener: socket.socket, link_socket: socket.socket, router: Router, verifier: Verifier, endpoint_url: str
) -> None:
    loop = asyncio.get_running_loop()
    _, link = await loop.create_unix_connection(CoreLink, sock=link_socket)
    try:
        routes = await link.routes  # the core is ready
    except ConnectionError:
        return
    gateway = Gateway(router, {}, verifier, endpoint_url, call=link.call)
    # IAM users' keys: the core shares them (and each change) so that a front verifies their
    # requests itself; one it does not know yet goes to the core whole, which verifies it.
    link.on_keys = verifier.keys.use_user_keys
    gateway.forward_unresolved = link.forward
    for path in routes["paths"]:
        # "/" is the page (http/root.py): only a browser's GET / goes to the core for it.
        if path == "/":
            gateway.mount_page(link.forward)
        else:
            gateway.mount(path, link.forward)
    for suffix in routes["hosts"]:
        websocket = link.websockets if suffix in routes["websockets"] else None
        gateway.mount_host(suffix, link.forward, websocket=websocket)
    server = await loop.create_server(lambda: HttpProtocol(gateway), sock=listener, backlog=BACKLOG)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(link.closed.wait())]
    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    server.close()
    for waiter in waits:
        waiter.cancel()


# --- the core's side ---------------------------------------------------------------------------


class Fronts:
    """The core's view of its fronts: connect() once the core is ready, stop() on shutdown."""

    def __init__(self, fronts: list[Front], listener: socket.socket) -> None:
        self.fronts = fronts
        self.listener = listener
        self.stopping = False
        self._sharing: asyncio.Future | None = None

    async def connect(self, gateway: Gateway) -> None:
        """Serve each front's link (the fronts then start accepting), and take over the
        listening socket if every front has gone."""
        loop = asyncio.get_running_loop()
        routes = {"paths": gateway.own_paths(), "hosts": gateway.own_hosts(), "websockets": list(gateway.websockets)}
        for front in self.fronts:
            _, front.link = await loop.create_unix_connection(
                lambda: FrontLink(gateway.call_here, gateway.handle, routes, gateway.websocket_for),
                sock=front.link_socket,
            )
            asyncio.ensure_future(self._watch(front, gateway))
        if gateway.user_keys is not None:
            self._sharing = asyncio.ensure_future(self._share_keys(gateway.user_keys))

    async def _share_keys(self, keys: UserKeys) -> None:
        """IAM users' active keys to every front, whole, whenever they change (looked at every
        KEYS_CHECK_S: IAM changes are rare, and until a front has a new key it forwards that
        key's requests to the core, so only a deleted or deactivated key lingers that long in
        a front, as IAM's own changes take a moment to reach everywhere on AWS)."""
        shared = None
        while not self.stopping:
            if keys.generation != shared:
                shared = keys.generation
                snapshot = keys.active_keys()
                for front in self.fronts:
                    if front.link is not None and not front.exited:
                        front.link.send((0, "keys", snapshot))
            await asyncio.sleep(KEYS_CHECK_S)

    async def _watch(self, front: Front, gateway: Gateway) -> None:
        assert front.link is not None
        await front.link.closed.wait()
        front.exited = True
        if self.stopping:
            return
        # Its socket closes as it exits: wait (off the loop) for the exit itself, so that no
        # zombie is left behind.
        await asyncio.get_running_loop().run_in_executor(None, _reap, front.pid, True)
        left = sum(not f.exited for f in self.fronts)
        log.error("front process %d (pid %d) exited; %d left", front.index, front.pid, left)
        if not left:
            log.error("no front process left: the core accepts connections itself")
            await asyncio.get_running_loop().create_server(
                lambda: HttpProtocol(gateway), sock=self.listener, backlog=BACKLOG
            )

    async def stop(self, timeout_s: float = 5.0) -> None:
        """SIGTERM every front, wait for them to go (up to `timeout_s`), then reap them."""
        self.stopping = True
        if self._sharing is not None:
            self._sharing.cancel()
        running = [front for front in self.fronts if not front.exited]
        for front in running:
            _signal(front.pid, signal.SIGTERM)
        closing = [front.link.closed.wait() for front in running if front.link is not None]
        if closing:
            try:
                await asyncio.wait_for(asyncio.gather(*closing), timeout_s)
            except asyncio.TimeoutError:
                log.warning("front processes did not stop within %.0f s; killing them", timeout_s)
                for front in running:
                    _signal(front.pid, signal.SIGKILL)
        for front in self.fronts:
            if front.link is not None:
                await front.link.close()
            _reap(front.pid, wait=True)


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _reap(pid: int, wait: bool = False) -> None:
    try:
        os.waitpid(pid, 0 if wait else os.WNOHANG)
    except ChildProcessError:
        pass
