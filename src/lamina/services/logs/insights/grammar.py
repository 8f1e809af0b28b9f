"""The Logs Insights query language (queryLanguage "CWLI"), as a lark grammar.

A query is commands joined by `|`. LALR with lark's contextual lexer: where an operand is
expected `/.../` is a regex, where an operator is expected `/` divides, as in AWS's
language. Keywords are case-insensitive; field names are case-sensitive. `#` starts a
comment that runs to the end of the line.
"""

from __future__ import annotations

GRAMMAR = r"""
?start: query
query: command ("|" command)*

?command: fields_cmd | display_cmd | filter_cmd | stats_cmd | sort_cmd | limit_cmd
        | parse_cmd | dedup_cmd | unmask_cmd

fields_cmd: "fields"i named ("," named)*
display_cmd: "display"i named ("," named)*
filter_cmd: "filter"i expr
stats_cmd: "stats"i named ("," named)* [BY named ("," named)*]
sort_cmd: "sort"i sort_key ("," sort_key)*
sort_key: expr [DIRECTION]
limit_cmd: "limit"i INT
parse_cmd: "parse"i [source] (STRING | REGEX) ["as"i field ("," field)*]
source: NAME | BACKTICKED
dedup_cmd: "dedup"i field ("," field)*
unmask_cmd: "unmask"i field

named: expr ["as"i field]

?expr: or_expr
?or_expr: and_expr (_OR and_expr)*  -> or_
?and_expr: not_expr (_AND not_expr)*  -> and_
?not_expr: _NOT not_expr -> not_
         | comparison
?comparison: sum
           | sum COMPARE sum -> compare
           | sum _LIKE pattern -> like
           | sum _NOT _LIKE pattern -> not_like
           | sum _MATCH pattern -> like
           | sum _IN list -> in_
           | sum _NOT _IN list -> not_in
?pattern: REGEX -> regex | sum
?sum: product (ADD_OP product)*  -> arith
?product: power (MUL_OP power)*  -> arith
?power: unary ("^" unary)* -> power
?unary: "-" unary -> neg
      | atom
?atom: literal
     | field
     | FUNC_NAME "(" [args] ")" -> call
     | "(" expr ")"
     | list
args: arg ("," arg)*
?arg: expr | STAR -> star
list: "[" [literal ("," literal)*] "]"
?literal: STRING -> string
        | NUMBER -> number
        | DURATION -> duration
field: NAME | BACKTICKED

BY.2: /by\b/i
_OR.2: /or\b/i
_AND.2: /and\b/i
_NOT.2: /not\b/i
_LIKE.2: /like\b/i
_IN.2: /in\b/i
DIRECTION.2: /(asc|desc)\b/i
_MATCH.3: "=~"
COMPARE: "<=" | ">=" | "!=" | "=" | "<" | ">"
ADD_OP: "+" | "-"
MUL_OP: "*" | "/" | "%"
STAR: "*"
FUNC_NAME.3: /[A-Za-z_][A-Za-z0-9_]*(?=\s*\()/
NAME: /@?[A-Za-z_][A-Za-z0-9_.@$]*/
BACKTICKED: /`[^`]+`/
DURATION.3: /\d+(ms|mo|s|m|h|d|w|q|y)(?![A-Za-z0-9_])/
NUMBER.2: /\d+(\.\d+)?([eE][+-]?\d+)?/ | /\.\d+/
INT: /\d+/
STRING: /"(\\.|[^"\\])*"/ | /'(\\.|[^'\\])*'/
REGEX: /\/(\\.|[^\/\\\n])+\/[a-z]*/
COMMENT: /#[^\n]*/

%import common.WS
%ignore WS
%ignore COMMENT
"""
