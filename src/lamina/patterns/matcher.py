"""Matching a compiled rule against an event.

A rule is a list of fields, each a dotted path with a leaf test, sorted by path; the event
matches when every field does. Paths are compared as dot-joined strings, as in AWS's engine,
whatever mix of nesting and dotted keys either side uses: the pattern {"detail.state": [...]}
reaches {"detail": {"state": ...}}, and {"detail": {"state": [...]}} reaches
{"detail.state": ...}.

The values at a path are its leaves: scalars and null, never objects; an array contributes its
elements, each tagged with its place in the array ("membership"). Two rules govern arrays:

* Array consistency: the values chosen for the fields of one rule may not come from different
  elements of the same array (the employees example of the AWS documentation: firstName
  "Anna" and lastName "Jones" from two different employees do not match).
* {"exists": false} holds when the path has no value that is consistent with the values
  chosen for the fields sorted before it. Fields are tried in path order, as AWS's engine
  walks them, so an absent field inside an array of objects is judged element by element
  only after a field that picked an element.
"""

from __future__ import annotations

from typing import Any

from .operators import Leaf

_MISSING = object()
_ONE = ([()], [()])  # (memberships of the accepted values, of all values): one, outside arrays
_NOTHING: tuple[list, list] = ([], [])
Membership = tuple  # of (array identity, index) pairs, outermost array first


class Field:
    """One path of a rule with its leaf test."""

    __slots__ = ("path", "depth", "accepts", "match_missing", "_steps")

    def __init__(self, segments: list[str], leaf: Leaf) -> None:
        self.path = ".".join(segments)
        self.depth = len(segments)
        self.accepts = leaf.accepts
        self.match_missing = leaf.match_missing
        size = len(segments)
        # From segment i, an event key may be any run of the remaining segments joined by dots.
        self._steps = tuple(tuple((".".join(segments[i : j + 1]), j + 1) for j in range(i, size)) for i in range(size))

    def values(self, event: Any) -> list[tuple[Any, Membership]]:
        # The common case first: objects all the way down, no array, no dotted key.
        node, depth, steps = event, 0, self._steps
        while depth < len(steps):
            if type(node) is not dict:
                break
            options = steps[depth]
            for key, _ in options[1:]:
                if key in node:
                    break
            else:
                node = node.get(options[0][0], _MISSING)
                if node is _MISSING:
                    return []
                depth += 1
                continue
            break
        else:
            if type(node) is dict:
                return []
            if type(node) is not list:
                return [(node, ())]
        found: list[tuple[Any, Membership]] = []
        _walk(event, steps, 0, (), found)
        return found


def _walk(node: Any, steps: tuple, depth: int, membership: Membership, found: list) -> None:
    if isinstance(node, list):
        array = id(node)
        for index, item in enumerate(node):
            _walk(item, steps, depth, membership + ((array, index),), found)
    elif depth == len(steps):
        if not isinstance(node, dict):
            found.append((node, membership))
    elif isinstance(node, dict):
        for key, after in steps[depth]:
            value = node.get(key, _MISSING)
            if value is not _MISSING:
                _walk(value, steps, after, membership, found)


class Rule:
    """The fields of one alternative of a pattern. `fields` are in path order, the order the
    array-consistent search follows; `probes` tries the shallow fields (source, detail-type)
    first, so that most events are turned down after a lookup or two."""

    __slots__ = ("fields", "probes")

    def __init__(self, fields: list[Field]) -> None:
        self.fields = tuple(sorted(fields, key=lambda field: field.path))
        self.probes = tuple(sorted(range(len(self.fields)), key=lambda i: (self.fields[i].depth, self.fields[i].path)))

    def matches(self, event: Any) -> bool:
        fields = self.fields
        choices: list = [_NOTHING] * len(fields)
        in_arrays = False
        for position in self.probes:
            field = fields[position]
            values = field.values(event)
            if not values:
                if field.match_missing:
                    continue
                return False
            if len(values) == 1 and not values[0][1]:  # the usual case: one value, no array
                if not field.accepts(values[0][0]):
                    return False
                choices[position] = _ONE
                continue
            accepts = field.accepts
            accepted = [membership for value, membership in values if accepts(value)]
            nested = any(membership for _, membership in values)
            if not accepted and not (field.match_missing and nested):
                return False  # no value fits, and the field is there whatever is chosen
            in_arrays = in_arrays or nested
            choices[position] = (accepted, [membership for _, membership in values])
        return not in_arrays or _consistent(fields, choices)


def _consistent(fields: tuple[Field, ...], choices: list[tuple[list, list]]) -> bool:
    """Is there a value for every field, none from a different element of an array another
    value came from? Depth-first in field order; dead ends are remembered."""
    dead: set = set()

    def search(position: int, chosen: dict) -> bool:
        if position == len(fields):
            return True
        key = (position, tuple(sorted(chosen.items())))
        if key in dead:
            return False
        accepted, present = choices[position]
        for membership in accepted:
            if _fits(chosen, membership):
                extended = chosen
                if membership:
                    extended = dict(chosen)
                    extended.update(membership)
                if search(position + 1, extended):
                    return True
        if fields[position].match_missing and not any(_fits(chosen, m) for m in present):
            if search(position + 1, chosen):
                return True
        dead.add(key)
        return False

    return search(0, {})


def _fits(chosen: dict, membership: Membership) -> bool:
    for array, index in membership:
        if chosen.get(array, index) != index:
            return False
    return True
