"""Where a function's code runs: a process of its own, spoken to over a socket."""
