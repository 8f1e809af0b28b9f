"""CloudWatch Logs Insights, one module per part:

grammar.py    the query language as a lark grammar
syntax.py     the parsed form: commands and expression nodes
parser.py     text to commands; MalformedQueryException's message and location
values.py     what fields hold: missing values, numbers in strings, timestamps shown
functions.py  the scalar functions; the names of the aggregates
evaluate.py   expressions compiled into closures over a record
aggregates.py the stats command's aggregates
fields.py     the fields discovered in an event (system, JSON, Lambda's REPORT), @ptr
pipeline.py   the commands as stages records flow through; the results
runner.py     queries in the background and their states
api.py        StartQuery, GetQueryResults, StopQuery, DescribeQueries, GetLogRecord
"""
