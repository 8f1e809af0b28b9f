"""StartQuery, GetQueryResults, StopQuery, DescribeQueries, GetLogRecord.

Queries belong to the account and region that started them; another's queryId is simply
not found. The language is AWS's CWLI; SQL and PPL are refused with InvalidParameterException
(Lamina does not implement them).
"""

from __future__ import annotations

from typing import Any

from ....errors import ServiceError
from ....observability.logsink import LogSink
from ....store.base import LogQuery, Store
from ...context import RequestContext
from ..paging import decode_token, encode_token
from ..resources import GROUP_KIND, group_from_identifier, group_ref, invalid_parameter, not_found
from .evaluate import QueryCompileError
from .fields import parse_pointer, record_of
from .parser import QuerySyntaxError, parse_query
from .pipeline import MAX_RESULTS, Pipeline
from .runner import Queries, Target
from .values import Timestamp, as_text

MAX_CONCURRENT = 30
MAX_GROUPS = 50
DEFAULT_DESCRIBE = 1000
QUERY_NOT_FOUND = "Query does not exist."


def malformed(message: str, start: int, end: int) -> ServiceError:
    return ServiceError(
        "MalformedQueryException",
        message,
        400,
        queryCompileError={"location": {"startCharOffset": start, "endCharOffset": end}, "message": message},
    )


def compile_query(text: str) -> list:
    """The query's commands, compiled once to catch what cannot run; MalformedQueryException."""
    try:
        commands = parse_query(text)
        Pipeline(commands)
    except QuerySyntaxError as error:
        raise malformed(error.message, error.start, error.end) from None
    except QueryCompileError as error:
        raise malformed(error.message, 0, max(len(text) - 1, 0)) from None
    return commands


def check_language(params: dict) -> None:
    language = params.get("queryLanguage") or "CWLI"
    if language != "CWLI":
        raise invalid_parameter(f"Query language {language} is not supported here: use CWLI (Logs Insights QL).")


class InsightsApi:
    store: Store
    sink: LogSink
    queries: Queries

    async def start_query(self, params: dict, ctx: RequestContext) -> dict:
        check_language(params)
        given = [member for member in ("logGroupName", "logGroupNames", "logGroupIdentifiers") if params.get(member)]
        if len(given) != 1:
            raise invalid_parameter(
                "Exactly one of logGroupName, logGroupNames or logGroupIdentifiers must be specified."
            )
        if params.get("logGroupName"):
            refs = [group_ref(ctx, params["logGroupName"])]
        elif params.get("logGroupNames"):
            refs = [group_ref(ctx, name) for name in params["logGroupNames"]]
        else:
            refs = [group_from_identifier(identifier, ctx) for identifier in params["logGroupIdentifiers"]]
        if len(refs) > MAX_GROUPS:
            raise invalid_parameter(f"A query can search at most {MAX_GROUPS} log groups.")
        limit = params.get("limit") or MAX_RESULTS
        if limit > MAX_RESULTS:  # the model says no maximum; AWS's documentation and service do
            raise invalid_parameter(
                f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: "
                f"Member must have value less than or equal to {MAX_RESULTS}"
            )
        start, end = params["startTime"], params["endTime"]
        if end < start:
            raise invalid_parameter("endTime must be greater than or equal to startTime.")
        commands = compile_query(params["queryString"])
        for ref in refs:
            if await self.store.get(GROUP_KIND, ref.key) is None:
                raise not_found(f"Log group '{ref.name}' does not exist for account ID '{ctx.account_id}'")
        scope = (ctx.account_id, ctx.region)
        if self.queries.running(scope) >= MAX_CONCURRENT:
            raise ServiceError(
                "LimitExceededException", f"Account maximum query concurrency limit of [{MAX_CONCURRENT}] reached.", 400
            )
        await self.sink.flush()  # function output so far is part of what the query sees
        targets = [Target(ref.key, ref.name, f"{ctx.account_id}:{ref.name}") for ref in dict.fromkeys(refs)]
        # startTime and endTime are seconds; the range includes all of endTime's second
        run = self.queries.start(
            scope,
            params["queryString"],
            commands,
            targets,
            start * 1000,
            (end + 1) * 1000,
            limit,
        )
        return {"queryId": run.query_id}

    def _run_of(self, query_id: str, ctx: RequestContext):
        run = self.queries.runs.get(query_id)
        if run is None or run.scope != (ctx.account_id, ctx.region):
            raise not_found(QUERY_NOT_FOUND)
        return run

    async def get_query_results(self, params: dict, ctx: RequestContext) -> dict:
        run = self._run_of(params["queryId"], ctx)
        statistics = run.statistics()
        statistics["resultCount"] = float(len(run.results))
        return {"queryLanguage": "CWLI", "results": run.results, "statistics": statistics, "status": run.status}

    async def stop_query(self, params: dict, ctx: RequestContext) -> dict:
        return {"success": self.queries.stop(self._run_of(params["queryId"], ctx))}

    async def describe_queries(self, params: dict, ctx: RequestContext) -> dict:
        check_language(params)
        scope = (ctx.account_id, ctx.region)
        group, status = params.get("logGroupName"), params.get("status")
        limit = params.get("maxResults") or DEFAULT_DESCRIBE
        cursor = decode_token(params.get("nextToken"), "after")
        runs = [
            run
            for run in reversed(self.queries.runs.values())  # the newest first
            if run.scope == scope
            and (status is None or run.status == status)
            and (group is None or any(target.name == group for target in run.targets))
        ]
        if cursor is not None:
            ids = [run.query_id for run in runs]
            runs = runs[ids.index(cursor["after"]) + 1 :] if cursor["after"] in ids else []
        page = runs[:limit]
        result: dict[str, Any] = {"queries": [self.queries.describe(run) for run in page]}
        if len(runs) > limit:
            result["nextToken"] = encode_token({"after": page[-1].query_id})
        return result

    async def get_log_record(self, params: dict, ctx: RequestContext) -> dict:
        pointer = parse_pointer(params["logRecordPointer"])
        if pointer is None:
            raise invalid_parameter("Log record pointer is invalid.")
        key, event_id = pointer
        account, region, name = (key.split(":", 2) + ["", ""])[:3]
        if (account, region) != (ctx.account_id, ctx.region):
            raise not_found("Log record not found.")
        await self.sink.flush()
        rows = await self.store.read_logs(LogQuery(group=key, after_id=event_id - 1, limit=1))
        if not rows or rows[0].event_id != event_id:
            raise not_found("Log record not found.")
        record = record_of(rows[0], key, f"{account}:{name}")
        # times as epoch milliseconds, as AWS shows them here
        shown = {
            field: str(int(value)) if isinstance(value, Timestamp) else as_text(value)
            for field, value in record.items()
        }
        return {"logRecord": shown}
