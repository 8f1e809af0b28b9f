"""The language runtimes this host can run, and the interpreter each one runs on.

A function's `python3.12` runs on a Python 3.12 and its `nodejs20.x` on a Node.js 20, never
on whatever Lamina itself runs on: a wheel built for one minor version, a syntax feature or
a layer's `python/lib/python3.12/site-packages` only work on the matching one. Interpreters
are found, in this order:

  python3.X   the setting for it (LAMINA_PYTHON3_X=/path/to/python, see config.py), Lamina's own Python
              if it is 3.X, `python3.X` on PATH, pyenv's versions ($PYENV_ROOT or
              ~/.pyenv), uv's managed Pythons ($UV_PYTHON_INSTALL_DIR or
              ~/.local/share/uv/python)
  nodejsNN.x  the setting (LAMINA_NODEJS_NN=/path/to/node), `node` on PATH if it is NN,
              `nodeNN` on PATH, nvm's versions ($NVM_DIR or ~/.nvm), fnm's, /usr/local/n

Each candidate is run once to ask its version (a pyenv shim, say, may point at another
version or at none); the answer is cached for the server's life.
"""

from __future__ import annotations

import glob
import os
import re
import subprocess
import sys
import threading
from dataclasses import dataclass

PYTHON_VERSIONS = {f"python3.{minor}": (3, minor) for minor in range(9, 15)}
NODE_VERSIONS = {"nodejs18.x": 18, "nodejs20.x": 20, "nodejs22.x": 22}
LANGUAGE_RUNTIMES = (*PYTHON_VERSIONS, *NODE_VERSIONS)


def setting_name(runtime: str) -> str:
    """The environment variable naming a runtime's interpreter: LAMINA_PYTHON3_12, LAMINA_NODEJS_20."""
    if runtime in NODE_VERSIONS:
        return f"LAMINA_NODEJS_{NODE_VERSIONS[runtime]}"
    return "LAMINA_" + runtime.upper().replace(".", "_")


@dataclass(frozen=True)
class Interpreter:
    runtime: str  # "python3.12", "nodejs20.x"
    path: str  # the executable
    version: str  # as it reports itself: "3.12.1", "20.20.2"
    source: str  # where it was found: "setting", "lamina", "PATH", "pyenv", "uv", "nvm", ...

    @property
    def python(self) -> bool:
        return self.runtime in PYTHON_VERSIONS

    @property
    def prefix(self) -> str:
        """The installation it belongs to (bin/'s parent), which sandboxes must see."""
        return os.path.dirname(os.path.dirname(os.path.realpath(self.path)))


def _version_key(path: str) -> tuple[int, ...]:
    """Sort key of a versioned directory: ".../3.12.10/bin/python3.12" after ".../3.12.9/..."."""
    return tuple(int(n) for n in re.findall(r"\d+", path))


def _newest_first(pattern: str) -> list[str]:
    return sorted(glob.glob(pattern), key=_version_key, reverse=True)


def _python_version(path: str) -> str | None:
    try:
        done = subprocess.run(
            [path, "-I", "-S", "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
            capture_output=True,
            text=True,
            timeout=20,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _node_version(path: str) -> str | None:
    try:
        done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    answer = done.stdout.strip().lstrip("v")
    return answer if done.returncode == 0 and answer else None


class Runtimes:
    """Finds and remembers the interpreter of each language runtime on this host."""

    def __init__(
        self,
        settings: dict[str, str] | None = None,
        environ: dict[str, str] | None = None,
        own_python: str | None = None,
    ) -> None:
        self._settings = dict(settings or {})  # runtime -> explicit interpreter path
        self._environ = dict(os.environ if environ is None else environ)
        # Lamina's own interpreter, resolved out of its venv (run with -S it sees no site-packages).
        self._own = own_python if own_python is not None else os.path.realpath(sys.executable)
        self._found: dict[str, Interpreter | None] = {}
        self._lock = threading.Lock()

    def find(self, runtime: str) -> Interpreter | None:
        """The interpreter `runtime` runs on here, or None (runtimes that need none, provided.*, give None)."""
        if runtime not in PYTHON_VERSIONS and runtime not in NODE_VERSIONS:
            return None
        with self._lock:
            if runtime not in self._found:
                self._found[runtime] = self._discover(runtime)
            return self._found[runtime]

    def all(self) -> list[tuple[str, Interpreter | None]]:
        """Every language runtime Lamina knows, with its interpreter here (or None)."""
        return [(runtime, self.find(runtime)) for runtime in LANGUAGE_RUNTIMES]

    def missing(self, runtime: str) -> str:
        """What to tell a user whose function needs `runtime` when this host has no interpreter for it."""
        if runtime in NODE_VERSIONS:
            major = NODE_VERSIONS[runtime]
            what = f"Node.js {major}"
            how = f"install Node.js {major} (nvm install {major}, or your distribution's nodejs package)"
        else:
            major, minor = PYTHON_VERSIONS[runtime]
            what = f"Python {major}.{minor}"
            how = (
                f"install Python {major}.{minor} (pyenv install {major}.{minor}, uv python install "
                f"{major}.{minor}, or python{major}.{minor} from your distribution)"
            )
        return (
            f"The runtime {runtime} needs {what}, and this Lamina host has none: {how}, "
            f"or point {setting_name(runtime)} at one. `lamina runtimes` lists what this host can run."
        )

    # --- discovery ------------------------------------------------------------------------

    def _discover(self, runtime: str) -> Interpreter | None:
        python = runtime in PYTHON_VERSIONS
        for source, path in self._candidates(runtime):
            if not path or not os.path.isfile(path) or not os.access(path, os.X_OK):
                continue
            version = _python_version(path) if python else _node_version(path)
            if version is not None and self._matches(runtime, version):
                return Interpreter(runtime, path, version, source)
        return None

    @staticmethod
    def _matches(runtime: str, version: str) -> bool:
        numbers = tuple(int(n) for n in re.findall(r"\d+", version)[:2])
        if runtime in PYTHON_VERSIONS:
            return numbers == PYTHON_VERSIONS[runtime]
        return numbers[:1] == (NODE_VERSIONS[runtime],)

    def _candidates(self, runtime: str):
        home = self._environ.get("HOME") or os.path.expanduser("~")
        if runtime in self._settings:
            yield "setting", self._settings[runtime]
            return  # an explicit choice is the only one: a wrong path must not fall back silently
        path_dirs = [d for d in self._environ.get("PATH", "").split(os.pathsep) if d]
        if runtime in PYTHON_VERSIONS:
            major, minor = PYTHON_VERSIONS[runtime]
            name = f"python{major}.{minor}"
            if sys.version_info[:2] == (major, minor):
                yield "lamina", self._own
            for directory in path_dirs:
                if os.path.basename(directory.rstrip("/")) != "shims":  # pyenv's: its versions come next
                    yield "PATH", os.path.join(directory, name)
            pyenv = self._environ.get("PYENV_ROOT") or os.path.join(home, ".pyenv")
            for path in _newest_first(os.path.join(pyenv, "versions", f"{major}.{minor}.*", "bin", name)):
                yield "pyenv", path
            uv = self._environ.get("UV_PYTHON_INSTALL_DIR") or os.path.join(
                self._environ.get("XDG_DATA_HOME") or os.path.join(home, ".local", "share"), "uv", "python"
            )
            for path in _newest_first(os.path.join(uv, f"cpython-{major}.{minor}.*", "bin", name)):
                yield "uv", path
            return
        major = NODE_VERSIONS[runtime]
        for directory in path_dirs:
            yield "PATH", os.path.join(directory, "node")
        for directory in path_dirs:
            yield "PATH", os.path.join(directory, f"node{major}")
        nvm = self._environ.get("NVM_DIR") or os.path.join(home, ".nvm")
        for path in _newest_first(os.path.join(nvm, "versions", "node", f"v{major}.*", "bin", "node")):
            yield "nvm", path
        fnm = self._environ.get("FNM_DIR") or os.path.join(home, ".local", "share", "fnm")
        for path in _newest_first(os.path.join(fnm, "node-versions", f"v{major}.*", "installation", "bin", "node")):
            yield "fnm", path
        for path in _newest_first(os.path.join("/usr/local/n/versions/node", f"{major}.*", "bin", "node")):
            yield "n", path
