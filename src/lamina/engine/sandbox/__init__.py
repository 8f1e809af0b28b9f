"""Where a function's code runs: base.py (the Sandbox interface and its lifecycle) and its
implementations (managed.py, custom.py, dead.py); host.py and cgroups.py (what isolation
this host allows, each instance's plan); launcher.py (the engine's side of the zygote);
snapshot.py (SnapStart's per-version zygote); runtime_api.py (the Lambda Runtime API for
custom runtimes); environment.py (a sandbox's environment variables); guest/ (the code
that runs inside)."""
