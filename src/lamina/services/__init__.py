"""One package per AWS service, each a plug-in of the composition root (base.py: the
Service lifecycle). A service is a class whose async methods are named after its
operations in snake_case; each takes the parsed request dict and the RequestContext
(context.py) and returns the response dict. No HTTP in sight, and no service imports
another: see docs/architecture.md, "Adding a service"."""
