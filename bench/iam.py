"""IAM on the hot path: what evaluating an IAM user's policies costs a warm call.

    .venv/bin/python bench/iam.py [--quick]

Starts a Lamina server, a no-op function and a queue, and an IAM user whose inline policy
allows lambda:InvokeFunction on the function and sqs:SendMessage on the queue. Then, on one
keep-alive connection each (the lean client: one request signed once, replayed), warm
synchronous Invokes and SQS SendMessages, signed by the account's root keys (no policy
evaluation) and by the user's keys (evaluated, from the decision cache), in alternating
blocks. Prints the machine and one markdown table: p50/p99 per call and calls per second
per client, and the user's throughput as a fraction of root's (target: ≤ 10% loss).
The policy decision itself is measured by bench/policy.py.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

NOOP = "def handler(e, c):\n    return e\n"

from _common import (  # noqa: E402
    Cleanup,
    LaminaServer,
    Row,
    SignedRequest,
    Summary,
    Table,
    boto3_client,
    create_function,
    invoke_request,
    lamina_revision,
    log,
    machine_line,
    measure_calls,
    ms,
    scratch_dir,
)


def sqs_send(url: str, queue_url: str, credentials: tuple[str, ...]) -> SignedRequest:
    body = json.dumps({"QueueUrl": queue_url, "MessageBody": "x"}).encode()
    headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.SendMessage"}
    return SignedRequest(url, "POST", "/", body, headers, service="sqs", credentials=credentials)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    count, rounds = (800, 3) if args.quick else (3000, 5)
    print(f"Machine: {machine_line()}")
    print(f"Lamina: commit {lamina_revision()}")
    print(f"Date: {time.strftime('%Y-%m-%d %H:%M %Z')}; mode: {'quick' if args.quick else 'full'}", flush=True)
    table = Table()
    with Cleanup() as cleanup:
        lamina = LaminaServer(os.path.join(scratch_dir(cleanup, "lamina-bench-iam-"), "lamina")).start(cleanup)
        lam, sqs, iam = (boto3_client(lamina.url, s) for s in ("lambda", "sqs", "iam"))
        fn = create_function(lam, "noop", NOOP, memory_mb=1769)["FunctionArn"]
        queue = sqs.create_queue(QueueName="q")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        iam.create_user(UserName="bench")
        iam.put_user_policy(
            UserName="bench",
            PolicyName="calls",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": fn},
                        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": queue_arn},
                    ],
                }
            ),
        )
        key = iam.create_access_key(UserName="bench")["AccessKey"]
        user = (key["AccessKeyId"], key["SecretAccessKey"])
        root = ("test", "test")
        for what, make in (
            ("Warm sync Invoke, no-op, 1769 MB", lambda who: invoke_request(lamina.url, "noop", credentials=who)),
            ("SQS SendMessage", lambda who: sqs_send(lamina.url, queue, who)),
        ):
            log(what)
            results: dict[str, Summary] = {"root": Summary(), "user": Summary()}
            measure_calls(make(root), 200)  # warm: the instance, the connection, the decision cache
            measure_calls(make(user), 200)
            for _ in range(rounds):
                for who, credentials in (("root", root), ("user", user)):
                    results[who].samples.extend(measure_calls(make(credentials), count).samples)
            rates = {who: 1000.0 / s.mean for who, s in results.items()}
            for who, label in (("root", "root keys (no evaluation)"), ("user", "IAM user's keys (evaluated)")):
                s = results[who]
                loss = 1 - rates["user"] / rates["root"]
                table.add(
                    Row(
                        "1",
                        f"{what}, {label}, lean client",
                        "Lamina",
                        str(s.n),
                        ms(s.p50),
                        ms(s.p99),
                        f"{rates[who]:.0f} calls/s on one connection",
                        "" if who == "root" else f"≤ 10% loss: {'met' if loss <= 0.10 else 'missed'} ({loss:.1%})",
                        "" if who == "root" else f"{rates['user'] / rates['root']:.2f}x root",
                    )
                )
    print()
    print(table.markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
