"""The Python runtime as a process of its own, for a function with AWS_LAMBDA_EXEC_WRAPPER.

AWS starts the runtime through the wrapper script, handing it the runtime's command line
(the interpreter, its options, this script last), so that the wrapper can change the
environment or the options before it execs it. Such an instance cannot be a fork of the
zygote: the zygote's child (isolated already) execs the wrapper, and this script then does
what the fork would have: load the bootstrap and serve the control socket. Nothing is
preloaded here; the init is the function's, from a fresh interpreter.

Standard library only; started with -S (no site-packages: the function sees what AWS's
runtime gives it), so `sitecustomize` (used by observability layers through PYTHONPATH) is
imported here as `site` would have.
"""

import importlib.util
import os
import socket
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def _private_module(name, filename):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, filename))
    if spec is None or spec.loader is None:
        raise ImportError(f"Lamina's runtime is missing {filename}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def main():
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]
    control_fd = int(os.environ.pop("_LAMINA_CONTROL_FD"))
    handler = os.environ.pop("_LAMINA_HANDLER")
    task_root = os.environ.pop("_LAMINA_TASK_ROOT")
    packages = os.environ.pop("_LAMINA_PACKAGES", "")
    sys.dont_write_bytecode = True
    _private_module("_lamina_frames", "frames.py")
    bootstrap = _private_module("_lamina_bootstrap", "bootstrap.py")
    if packages:
        sys.path.append(packages)
        bootstrap.RUNTIME_PACKAGES = packages
    try:
        import sitecustomize  # noqa: F401
    except ImportError:
        pass
    bootstrap.serve(socket.socket(fileno=control_fd), handler, task_root)


if __name__ == "__main__":
    main()
