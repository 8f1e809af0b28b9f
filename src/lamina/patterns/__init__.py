"""The event-pattern language of Amazon EventBridge, which is also the language of SNS
subscription filter policies and of Lambda event source mapping FilterCriteria.

Pure functions, standard library only, no I/O. A pattern is compiled once (`compile_pattern`,
`compile_sns_policy`) into a `Pattern` whose `matches(event)` is cheap. The semantics are
AWS's, from its documentation and, where that is silent, from the engine AWS runs and
published (aws/event-ruler), checked against cases recorded on AWS itself:

    compiler.py    the structure: fields, nesting, dotted paths, $or, validation order
    operators.py   leaf lists: exact values and every operator, with AWS's error reasons
    numbers.py     exact decimals, and the -5e9..5e9 / 6-decimal range of numeric operators
    addresses.py   IP addresses and CIDR blocks
    wildcard.py    the wildcard operator and EventBridge's "too complex" limit
    matcher.py     events: leaf values, arrays (array consistency), exists
    sns.py         SNS's scopes, limits and operator subset; message attributes as an event

Lambda FilterCriteria use EventBridge's dialect (`compile_pattern`).
"""

from .compiler import Pattern, compile_pattern, matches
from .errors import InvalidPattern
from .sns import SNS_SCOPES, compile_sns_policy, sns_attributes_to_event, sns_policy_matches

__all__ = [
    "InvalidPattern",
    "Pattern",
    "SNS_SCOPES",
    "compile_pattern",
    "compile_sns_policy",
    "matches",
    "sns_attributes_to_event",
    "sns_policy_matches",
]
