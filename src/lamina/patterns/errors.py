"""The one error of the pattern language."""

from __future__ import annotations


class InvalidPattern(ValueError):
    """A pattern or filter policy AWS would refuse.

    `str(error)` is the reason as AWS words it (what EventBridge puts after "Event pattern is
    not valid. Reason: ", SNS after "FilterPolicy: "); `path` is the dotted field it was found
    at, when there is one. Services turn it into InvalidEventPatternException,
    InvalidParameter or InvalidParameterValueException.
    """

    def __init__(self, reason: str, path: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path
        # Where in the pattern's text, as EventBridge appends it to the reason
        # (` at [Source: (String)"..."; line: 1, column: N]`, locations.py); "" when the
        # pattern was not given as text.
        self.location = ""
