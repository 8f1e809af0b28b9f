"""IAM policy evaluation (src/lamina/policy): what one authorization costs on the request path.

    .venv/bin/python bench/policy.py [--quick]

In process, no server: a policy set of 20 statements (three identity-based policies and a
queue policy, with wildcards, a policy variable and conditions of several operators) is
parsed once, then requests are decided against it:

  1. uncached evaluation of a request allowed by the last identity statement that matches
     (every statement is looked at: the Deny ones must all be ruled out), target p50 <= 0.5 ms;
  2. uncached evaluation of a denied request, with AWS's denial message;
  3. building the RequestContext (lower-casing and deriving the context keys), which the
     gateway pays once per request whatever the cache does;
  4. a DecisionCache hit for the request of row 1, target p50 <= 20 us;
  5. parsing the four documents (once per policy change, for scale).
Each sample is one call timed with perf_counter; `--quick` takes fewer samples.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time

ROOT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT_DIR, "src"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import Row, Summary, Table, print_header  # noqa: E402
from lamina.policy import (  # noqa: E402
    RESOURCE,
    DecisionCache,
    PolicySet,
    RequestContext,
    denial_message,
    evaluate,
    parse_policy,
)

ACCOUNT = "111122223333"
USER = f"arn:aws:iam::{ACCOUNT}:user/alice"
QUEUE = f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders"


def statement(effect: str, action, resource="*", **more) -> dict:
    return {"Effect": effect, "Action": action, "Resource": resource, **more}


def documents() -> tuple[list[dict], dict]:
    """Three identity-based policies (16 statements) and a queue policy (4): 20 statements."""
    read_only = {
        "Version": "2012-10-17",
        "Statement": [
            statement("Allow", ["s3:Get*", "s3:List*"], ["arn:aws:s3:::reports", "arn:aws:s3:::reports/*"]),
            statement("Allow", "dynamodb:Query", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders"),
            statement("Allow", ["logs:CreateLogStream", "logs:PutLogEvents"], f"arn:aws:logs:*:{ACCOUNT}:*"),
            statement(
                "Allow", "cloudwatch:PutMetricData", "*", Condition={"StringEquals": {"cloudwatch:namespace": "App"}}
            ),
            statement("Deny", "s3:DeleteBucket", "*"),
            statement("Allow", "kms:Decrypt", f"arn:aws:kms:us-east-1:{ACCOUNT}:key/*"),
        ],
    }
    team = {
        "Version": "2012-10-17",
        "Statement": [
            statement("Allow", "s3:*", "arn:aws:s3:::home/${aws:username}/*"),
            statement(
                "Deny",
                "*",
                "*",
                Condition={
                    "BoolIfExists": {"aws:MultiFactorAuthPresent": "false"},
                    "StringEquals": {"aws:RequestedRegion": "eu-west-1"},
                },
            ),
            statement("Allow", "sns:Publish", f"arn:aws:sns:us-east-1:{ACCOUNT}:alerts-*"),
            statement("Deny", "sqs:DeleteQueue", "*"),
            statement("Allow", "lambda:InvokeFunction", f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:app-*"),
        ],
    }
    messaging = {
        "Version": "2012-10-17",
        "Statement": [
            statement(
                "Deny", "sqs:*", "*", Condition={"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]}}
            ),
            statement("Allow", ["sqs:ReceiveMessage", "sqs:DeleteMessage"], f"arn:aws:sqs:us-east-1:{ACCOUNT}:work-*"),
            statement(
                "Deny",
                "sqs:SendMessage",
                f"arn:aws:sqs:*:{ACCOUNT}:audit",
                Condition={"DateGreaterThan": {"aws:CurrentTime": "2099-01-01T00:00:00Z"}},
            ),
            statement("Allow", "sqs:GetQueue*", "*"),
            statement(
                "Allow",
                ["sqs:SendMessage", "sqs:SendMessageBatch"],
                f"arn:aws:sqs:us-east-1:{ACCOUNT}:*",
                Condition={
                    "Bool": {"aws:SecureTransport": "true"},
                    "StringEquals": {"aws:PrincipalTag/team": ["orders", "billing"]},
                },
            ),
        ],
    }
    queue = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": QUEUE,
                "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:sns:us-east-1:{ACCOUNT}:*"}},
            },
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:*",
                "Resource": QUEUE,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Effect": "Allow",
                "Principal": {"AWS": "444455556666"},
                "Action": "sqs:ReceiveMessage",
                "Resource": QUEUE,
            },
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:PurgeQueue",
                "Resource": QUEUE,
                "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["locked"]}},
            },
        ],
    }
    return [read_only, team, messaging], queue


def make_request(action: str = "sqs:SendMessage") -> RequestContext:
    return RequestContext(
        principal_arn=USER,
        action=action,
        resource=QUEUE,
        context_keys={"aws:SourceIp": "10.1.2.3", "aws:SecureTransport": "true", "aws:RequestedRegion": "us-east-1"},
        principal_tags={"team": "orders"},
    )


def measure(call, count: int) -> Summary:
    summary = Summary()
    for _ in range(min(1000, count // 10)):  # warm up (regex and lru caches)
        call()
    gc.collect()
    gc.disable()
    try:
        for _ in range(count):
            started = time.perf_counter()
            call()
            summary.samples.append((time.perf_counter() - started) * 1000)
    finally:
        gc.enable()
    return summary


def micro(value_ms: float) -> str:
    return f"{value_ms * 1000:.1f} µs"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples (a few seconds)")
    args = parser.parse_args()
    count = 20_000 if args.quick else 200_000
    print_header(args.quick)

    identity_docs, queue_doc = documents()
    identity = [parse_policy(d) for d in identity_docs]
    queue = parse_policy(queue_doc, kind=RESOURCE)
    policies = PolicySet(identity=identity, resource=queue)
    statements = sum(len(p.statements) for p in identity) + len(queue.statements)
    allowed = make_request()
    denied = make_request("sqs:DeleteQueue")
    first = evaluate(allowed, policies)
    second = evaluate(denied, policies)
    assert first.allowed and not second.allowed, (first, second)
    cache = DecisionCache()
    cache.evaluate(allowed, policies)

    def deny_with_message() -> None:
        denial_message(denied, evaluate(denied, policies))

    def parse_all() -> None:
        for document in identity_docs:
            parse_policy(document)
        parse_policy(queue_doc, kind=RESOURCE)

    rows = [
        (
            "1",
            f"evaluate, uncached: allowed ({statements} statements)",
            lambda: evaluate(allowed, policies),
            count,
            0.5,
        ),
        ("2", "evaluate, uncached: explicit deny + denial message", deny_with_message, count, None),
        ("3", "RequestContext construction (per request)", make_request, count, None),
        ("4", "DecisionCache hit", lambda: cache.evaluate(allowed, policies), count, 0.020),
        ("5", "parse the 4 documents (per policy change)", parse_all, max(200, count // 100), None),
    ]
    table = Table()
    for section, what, call, n, target in rows:
        summary = measure(call, n)
        target_text = ("≤ 0.5 ms" if target >= 0.1 else f"≤ {target * 1000:.0f} µs") if target else ""
        compare = ""
        if target:
            compare = ("meets" if summary.p50 <= target else "misses") + f" ({summary.p50 / target:.2f}x of target)"
        table.add(
            Row(
                section,
                what,
                "Lamina",
                str(summary.n),
                micro(summary.p50),
                micro(summary.p99),
                f"mean {micro(summary.mean)}",
                target_text,
                compare,
            )
        )
    print(table.markdown())
    print()
    print(f"Decision for row 1: allowed by the {first.policy_type}; row 2: {denial_message(denied, second)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
