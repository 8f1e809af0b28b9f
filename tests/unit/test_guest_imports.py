"""The code that runs inside sandboxes (engine/sandbox/guest/) imports the standard library
and its own siblings only: a sandboxed interpreter cannot see Lamina or its dependencies,
and a function must find a clean interpreter. (The zygote also preloads the SDK the Python
runtimes offer functions, boto3 and botocore, from the runtime's packages dir.)"""

from __future__ import annotations

import ast
import pathlib
import sys

from lamina.engine.sandbox import guest
from lamina.engine.sandbox.runtime_packages import DISTRIBUTIONS

GUEST = pathlib.Path(guest.DIRECTORY)


def _imported_roots(path: pathlib.Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: a relative import cannot work in a sandbox"
            roots.add(node.module.split(".")[0])
    return roots


def test_guest_code_imports_only_the_standard_library():
    files = sorted(GUEST.glob("*.py"))
    assert {f.name for f in files} >= {"bootstrap.py", "zygote.py", "isolation.py", "frames.py"}
    offered = {"boto3", "botocore"}
    assert offered <= set(DISTRIBUTIONS)
    for path in files:
        foreign = _imported_roots(path) - set(sys.stdlib_module_names) - {"__future__"}
        if path.name == "zygote.py":
            foreign -= offered
        if path.name == "standalone.py":
            foreign -= {"sitecustomize"}  # the function's own (PYTHONPATH), imported as `site` would
        assert not foreign, f"{path.name} imports {sorted(foreign)}"


def test_the_engine_speaks_the_guests_frame_format():
    # The engine's side reads frames.py as a package module; the guest loads the same file.
    from lamina.engine.sandbox.guest import frames

    packed = frames.pack(frames.INVOKE, b'{"request_id": "r"}', b"payload")
    size, kind = frames.HEADER.unpack(packed[: frames.HEADER.size])
    assert kind == frames.INVOKE and size == len(packed) - frames.HEADER.size
