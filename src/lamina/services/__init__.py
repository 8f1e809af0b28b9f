"""One module (or package) per AWS service. A service is a class whose async methods are
named after its operations in snake_case; each takes the parsed request dict and the
RequestContext and returns the response dict. No HTTP in sight."""
