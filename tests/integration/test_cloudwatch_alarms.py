"""CloudWatch alarms and dashboards against a live server, with boto3.

Datapoints are put at minutes that have already ended (PutMetricData takes past
timestamps), so that an alarm evaluated on creation, or at its next 10-second evaluation
(Period 10: a high-resolution alarm), sees them; every wait polls with a deadline. A test
survives a minute turning between its put and the evaluation: each pattern stays inside
the evaluation range (N + 2 periods) either way.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from tests.conftest import EVENTS, SNS, allow_service
from tests.integration.test_lambda_helpers import wait_until

LAMBDA_ALARMS = "lambda.alarms.cloudwatch.amazonaws.com"
SLOW = 45.0  # seconds: two 10-second evaluations and a loaded machine's slack


@pytest.fixture
def cloudwatch(lamina):
    return lamina.client("cloudwatch")


@pytest.fixture
def namespace(unique_name):
    return f"Lamina/Alarms/{unique_name}"


def ended_minute(back: int = 0) -> datetime:
    """The start of the last minute that has ended, `back` minutes further back."""
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    return now - timedelta(minutes=1 + back)


def put(cloudwatch, namespace: str, value: float, back: int = 0, name: str = "Errors", dims=None) -> None:
    cloudwatch.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": name,
                "Value": value,
                "Timestamp": ended_minute(back) + timedelta(seconds=30),
                "Dimensions": dims or [],
            }
        ],
    )


def alarm(cloudwatch, name: str, namespace: str, **more) -> None:
    params = dict(
        AlarmName=name,
        Namespace=namespace,
        MetricName="Errors",
        Statistic="Maximum",
        Period=10,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold",
    )
    params.update(more)
    cloudwatch.put_metric_alarm(**params)


def state(cloudwatch, name: str, types=("MetricAlarm", "CompositeAlarm")) -> dict:
    found = cloudwatch.describe_alarms(AlarmNames=[name], AlarmTypes=list(types))
    alarms = found["MetricAlarms"] + found["CompositeAlarms"]
    assert len(alarms) == 1, found
    return alarms[0]


def wait_state(cloudwatch, name: str, value: str, timeout: float = SLOW) -> dict:
    return wait_until(
        lambda: (a := state(cloudwatch, name)) and a["StateValue"] == value and a,
        timeout=timeout,
        interval=0.2,
        what=f"alarm {name} in {value}",
    )


def receive(sqs, url: str, timeout: float = SLOW) -> list[dict]:
    def poll():
        return sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages")

    return wait_until(poll, timeout=timeout, interval=0, what=f"a message on {url}")


def _error(caught) -> tuple[str, str]:
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


# --- an alarm's life: OK -> ALARM, with SNS, Lambda and EventBridge ------------------------------


def test_alarm_goes_to_alarm_and_acts(lamina, cloudwatch, sqs, queue, namespace, unique_name, create_function):
    sns, events, lambda_client = lamina.client("sns"), lamina.client("events"), lamina.client("lambda")
    account = "000000000000"
    name = f"{unique_name}-alarm"
    arn = f"arn:aws:cloudwatch:us-east-1:{account}:alarm:{name}"

    # SNS topic -> SQS queue.
    topic = sns.create_topic(Name=unique_name)["TopicArn"]
    sns_url, sns_queue = queue("-sns")
    allow_service(sqs, sns_queue, SNS, topic)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=sns_queue)
    # A function whose successes go to a queue: what it returns is the event it got.
    function_url, function_queue = queue("-fn")
    function = create_function()["FunctionArn"]
    lambda_client.put_function_event_invoke_config(
        FunctionName=function, DestinationConfig={"OnSuccess": {"Destination": function_queue}}
    )
    allow_service(lambda_client, function, LAMBDA_ALARMS, arn)
    # The default bus's state change events -> a queue.
    events_url, events_queue = queue("-events")
    rule = events.put_rule(
        Name=unique_name,
        EventPattern=json.dumps(
            {"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"], "resources": [arn]}
        ),
    )["RuleArn"]
    allow_service(sqs, events_queue, EVENTS, rule)
    events.put_targets(Rule=unique_name, Targets=[{"Id": "q", "Arn": events_queue}])

    put(cloudwatch, namespace, 0.5, back=1)
    alarm(
        cloudwatch,
        name,
        namespace,
        AlarmDescription="too many errors",
        AlarmActions=[topic, function],
        Tags=[{"Key": "team", "Value": "core"}],
    )
    wait_state(cloudwatch, name, "OK")
    put(cloudwatch, namespace, 5.0)
    described = wait_state(cloudwatch, name, "ALARM")
    assert described["AlarmArn"] == arn
    assert described["StateReason"].startswith("Threshold Crossed: 1 out of the last 1 datapoints [5.0 (")
    assert "was greater than the threshold (1.0)" in described["StateReason"]
    assert json.loads(described["StateReasonData"])["recentDatapoints"] == [5.0]

    # SNS: AWS's alarm notification.
    envelope = json.loads(receive(sqs, sns_url)[0]["Body"])
    assert envelope["Subject"] == f'ALARM: "{name}" in US East (N. Virginia)'
    notification = json.loads(envelope["Message"])
    assert notification["AlarmName"] == name
    assert notification["AlarmDescription"] == "too many errors"
    assert notification["AWSAccountId"] == account
    assert (notification["OldStateValue"], notification["NewStateValue"]) == ("OK", "ALARM")
    assert notification["Region"] == "US East (N. Virginia)"
    assert notification["AlarmArn"] == arn
    assert notification["NewStateReason"] == described["StateReason"]
    trigger = notification["Trigger"]
    assert trigger["MetricName"] == "Errors" and trigger["Namespace"] == namespace
    assert trigger["Statistic"] == "MAXIMUM" and trigger["StatisticType"] == "Statistic"
    assert trigger["ComparisonOperator"] == "GreaterThanThreshold" and trigger["Threshold"] == 1.0
    assert trigger["Period"] == 10 and trigger["EvaluationPeriods"] == 1

    # Lambda: AWS's alarm event, asynchronously.
    record = json.loads(receive(sqs, function_url)[0]["Body"])
    event = record["requestPayload"]
    assert event["source"] == "aws.cloudwatch"
    assert (event["alarmArn"], event["accountId"], event["region"]) == (arn, account, "us-east-1")
    data = event["alarmData"]
    assert data["alarmName"] == name
    assert data["state"]["value"] == "ALARM" and data["previousState"]["value"] == "OK"
    assert data["state"]["reason"] == described["StateReason"]
    metric = data["configuration"]["metrics"][0]["metricStat"]
    assert metric["metric"] == {"namespace": namespace, "name": "Errors", "dimensions": {}}
    assert data["configuration"]["description"] == "too many errors"

    # EventBridge: every state change (INSUFFICIENT_DATA -> OK, then OK -> ALARM).
    changes = []

    def collect():
        for message in sqs.receive_message(QueueUrl=events_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        ):
            changes.append(json.loads(message["Body"]))
        return len(changes) >= 2

    wait_until(collect, timeout=SLOW, interval=0, what="two state change events")
    by_state = {change["detail"]["state"]["value"]: change for change in changes}
    change = by_state["ALARM"]
    assert change["source"] == "aws.cloudwatch" and change["detail-type"] == "CloudWatch Alarm State Change"
    assert change["resources"] == [arn] and change["account"] == account
    assert change["detail"]["alarmName"] == name
    assert change["detail"]["previousState"]["value"] == "OK"
    assert by_state["OK"]["detail"]["previousState"]["value"] == "INSUFFICIENT_DATA"

    # History: created, the two state updates, the two actions.
    def history():
        items = cloudwatch.describe_alarm_history(AlarmName=name)["AlarmHistoryItems"]
        return items if sum(i["HistoryItemType"] == "Action" for i in items) >= 2 else None

    items = wait_until(history, timeout=SLOW, interval=0.2, what="the actions' history")
    kinds = [(i["HistoryItemType"], i["HistorySummary"]) for i in reversed(items)]
    assert kinds[0] == ("ConfigurationUpdate", f'Alarm "{name}" created')
    assert ("StateUpdate", "Alarm updated from INSUFFICIENT_DATA to OK") in kinds
    assert ("StateUpdate", "Alarm updated from OK to ALARM") in kinds
    assert ("Action", f"Successfully executed action {topic}") in kinds
    assert ("Action", f"Successfully executed action {function}") in kinds
    update = next(i for i in items if i["HistorySummary"] == "Alarm updated from OK to ALARM")
    data = json.loads(update["HistoryData"])
    assert data["oldState"]["stateValue"] == "OK" and data["newState"]["stateValue"] == "ALARM"
    assert cloudwatch.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "team", "Value": "core"}]


# --- evaluation semantics ---------------------------------------------------------------------------


def test_m_of_n_treat_missing_data_and_metric_math(cloudwatch, namespace, unique_name):
    # Three datapoints X 0 X in the last minutes that ended.
    for back, value in ((2, 5.0), (1, 0.0), (0, 5.0)):
        put(cloudwatch, namespace, value, back=back)
        put(cloudwatch, namespace, 1.0, back=back, name="Other")
    alarm(cloudwatch, f"{unique_name}-2of3", namespace, EvaluationPeriods=3, DatapointsToAlarm=2)
    alarm(cloudwatch, f"{unique_name}-3of3", namespace, EvaluationPeriods=3)
    empty = f"{namespace}/empty"
    alarm(cloudwatch, f"{unique_name}-breaching", empty, TreatMissingData="breaching")
    alarm(cloudwatch, f"{unique_name}-not", empty, TreatMissingData="notBreaching")
    cloudwatch.put_metric_alarm(
        AlarmName=f"{unique_name}-math",
        EvaluationPeriods=3,
        DatapointsToAlarm=3,
        Threshold=5.5,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        Metrics=[
            {
                "Id": "m1",
                "MetricStat": {"Metric": {"Namespace": namespace, "MetricName": "Errors"}, "Period": 60, "Stat": "Sum"},
                "ReturnData": False,
            },
            {
                "Id": "m2",
                "MetricStat": {"Metric": {"Namespace": namespace, "MetricName": "Other"}, "Period": 60, "Stat": "Sum"},
                "ReturnData": False,
            },
            {"Id": "e1", "Expression": "FILL(m1, 0) + m2 + 0.5", "Label": "total"},
        ],
    )
    wait_state(cloudwatch, f"{unique_name}-2of3", "ALARM")
    wait_state(cloudwatch, f"{unique_name}-3of3", "OK")
    wait_state(cloudwatch, f"{unique_name}-breaching", "ALARM")
    reason = wait_state(cloudwatch, f"{unique_name}-not", "OK")["StateReason"]
    assert reason == (
        "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as "
        "[NotBreaching]."
    )
    # 6.5, 1.5, 6.5: not 3 of 3.
    math_alarm = wait_state(cloudwatch, f"{unique_name}-math", "OK")
    assert math_alarm["Metrics"][2] == {"Id": "e1", "Expression": "FILL(m1, 0) + m2 + 0.5", "Label": "total"}
    assert "StateReasonData" in math_alarm

    found = cloudwatch.describe_alarms_for_metric(Namespace=namespace, MetricName="Errors")["MetricAlarms"]
    assert sorted(a["AlarmName"] for a in found) == [f"{unique_name}-2of3", f"{unique_name}-3of3"]
    page = cloudwatch.describe_alarms(AlarmNamePrefix=unique_name, MaxRecords=2)
    assert [a["AlarmName"] for a in page["MetricAlarms"]] == [f"{unique_name}-2of3", f"{unique_name}-3of3"]
    rest = cloudwatch.describe_alarms(AlarmNamePrefix=unique_name, MaxRecords=2, NextToken=page["NextToken"])
    assert [a["AlarmName"] for a in rest["MetricAlarms"]] == [f"{unique_name}-breaching", f"{unique_name}-math"]
    in_alarm = cloudwatch.describe_alarms(AlarmNamePrefix=unique_name, StateValue="ALARM")["MetricAlarms"]
    assert {a["AlarmName"] for a in in_alarm} == {f"{unique_name}-2of3", f"{unique_name}-breaching"}


def test_composite_alarm(cloudwatch, namespace, unique_name):
    first, second, parent = f"{unique_name}-a", f"{unique_name}-b", f"{unique_name}-parent"
    alarm(cloudwatch, first, f"{namespace}/a", TreatMissingData="breaching")
    alarm(cloudwatch, second, f"{namespace}/b", TreatMissingData="notBreaching")
    wait_state(cloudwatch, first, "ALARM")
    wait_state(cloudwatch, second, "OK")
    cloudwatch.put_composite_alarm(AlarmName=parent, AlarmRule=f'ALARM("{first}") AND NOT ALARM({second})')
    composite = wait_state(cloudwatch, parent, "ALARM")
    assert composite["AlarmRule"] == f'ALARM("{first}") AND NOT ALARM({second})'
    assert f":alarm:{first} transitioned to ALARM at " in composite["StateReason"]
    assert cloudwatch.describe_alarms(AlarmNames=[parent])["CompositeAlarms"] == []  # metric alarms by default

    children = cloudwatch.describe_alarms(ChildrenOfAlarmName=parent)
    assert sorted(a["AlarmName"] for a in children["MetricAlarms"]) == [first, second]
    parents = cloudwatch.describe_alarms(ParentsOfAlarmName=second)
    assert [a["AlarmName"] for a in parents["CompositeAlarms"]] == [parent]

    put(cloudwatch, f"{namespace}/b", 9.0)  # the second alarm breaches at its next evaluation
    wait_state(cloudwatch, second, "ALARM")
    assert wait_state(cloudwatch, parent, "OK")["StateReason"].startswith("arn:aws:cloudwatch:")

    with pytest.raises(ClientError) as caught:
        cloudwatch.put_composite_alarm(AlarmName=f"{unique_name}-x", AlarmRule="ALARM(nope-not-here)")
    assert _error(caught) == (
        "ValidationError",
        "Could not save the composite alarm as alarms [nope-not-here] in the alarm rule do not exist",
    )
    with pytest.raises(ClientError) as caught:
        cloudwatch.put_composite_alarm(AlarmName=f"{unique_name}-x", AlarmRule=f"ALARM({first}) AND")
    assert _error(caught)[0] == "ValidationError"
    with pytest.raises(ClientError) as caught:
        cloudwatch.delete_alarms(AlarmNames=[first])
    assert _error(caught)[0] == "ValidationError"
    cloudwatch.delete_alarms(AlarmNames=[parent, first, second])
    left = cloudwatch.describe_alarms(AlarmNamePrefix=unique_name, AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    assert (left["MetricAlarms"], left["CompositeAlarms"]) == ([], [])


def test_set_alarm_state_history_and_actions_switch(cloudwatch, namespace, unique_name):
    name = f"{unique_name}-set"
    alarm(cloudwatch, name, namespace, TreatMissingData="notBreaching")
    wait_state(cloudwatch, name, "OK")
    cloudwatch.disable_alarm_actions(AlarmNames=[name])
    assert state(cloudwatch, name)["ActionsEnabled"] is False
    cloudwatch.enable_alarm_actions(AlarmNames=[name])
    assert state(cloudwatch, name)["ActionsEnabled"] is True

    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="testing", StateReasonData='{"a": 1}')
    forced = state(cloudwatch, name)
    if forced["StateValue"] == "ALARM":  # (unless an evaluation came in between)
        assert (forced["StateReason"], forced["StateReasonData"]) == ("testing", '{"a": 1}')
    # The next evaluation puts it back, as on AWS.
    wait_state(cloudwatch, name, "OK")
    items = cloudwatch.describe_alarm_history(AlarmName=name, HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    summaries = [i["HistorySummary"] for i in items]
    assert summaries[:2] == ["Alarm updated from ALARM to OK", "Alarm updated from OK to ALARM"]
    assert summaries[-1] == "Alarm updated from INSUFFICIENT_DATA to OK"
    forced_item = json.loads(items[1]["HistoryData"])
    assert forced_item["newState"] == {"stateValue": "ALARM", "stateReason": "testing", "stateReasonData": {"a": 1}}
    oldest = cloudwatch.describe_alarm_history(AlarmName=name, ScanBy="TimestampAscending", MaxRecords=1)
    assert oldest["AlarmHistoryItems"][0]["HistoryItemType"] == "ConfigurationUpdate"
    assert "NextToken" in oldest

    with pytest.raises(ClientError) as caught:
        cloudwatch.set_alarm_state(AlarmName=f"{name}-missing", StateValue="OK", StateReason="x")
    assert _error(caught)[0] == "ResourceNotFound"
    cloudwatch.tag_resource(ResourceARN=state(cloudwatch, name)["AlarmArn"], Tags=[{"Key": "k", "Value": "v"}])
    cloudwatch.untag_resource(ResourceARN=state(cloudwatch, name)["AlarmArn"], TagKeys=["k"])
    assert cloudwatch.list_tags_for_resource(ResourceARN=state(cloudwatch, name)["AlarmArn"])["Tags"] == []


# --- validation ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, code, message",
    [
        (
            {"DatapointsToAlarm": 3},
            "ValidationError",
            "DatapointsToAlarm must be less than or equal to EvaluationPeriods",
        ),
        ({"MetricName": None}, "ValidationError", "MetricName must not be null"),
        ({"Period": 45}, "ValidationError", "Period must be 10, 20, 30 or a multiple of 60"),
        (
            {"Period": 3000, "EvaluationPeriods": 30},
            "ValidationError",
            "Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be <= 86400)",
        ),
        (
            {"ThresholdMetricId": "ad1"},
            "ValidationError",
            "Threshold and ThresholdMetricId cannot both be set",
        ),
        (
            {"Metrics": [{"Id": "m1", "Expression": "1"}]},
            "ValidationError",
            "MetricName should not be set if list of Metrics is set.",
        ),
        (
            {
                "MetricName": None,
                "Namespace": None,
                "Statistic": None,
                "Period": None,
                "Metrics": [{"Id": "m1", "Expression": "1", "ReturnData": False}],
            },
            "ValidationError",
            "Exactly one element of the metrics list should return data.",
        ),
        (
            {"ExtendedStatistic": "p99"},
            "InvalidParameterCombination",
            "Statistic and ExtendedStatistic cannot both be set",
        ),
        (
            {"AlarmActions": ["arn:aws:sns:eu-west-1:000000000000:topic"]},
            "ValidationError",
            "Invalid region eu-west-1 specified. Only us-east-1 is supported.",
        ),
    ],
)
def test_put_metric_alarm_validation(cloudwatch, namespace, unique_name, change, code, message):
    params = dict(
        AlarmName=unique_name,
        Namespace=namespace,
        MetricName="Errors",
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=2,
        Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold",
    )
    params.update(change)
    params = {k: v for k, v in params.items() if v is not None}
    with pytest.raises(ClientError) as caught:
        cloudwatch.put_metric_alarm(**params)
    assert _error(caught) == (code, message)


def test_anomaly_operators_without_a_band_are_refused(cloudwatch, namespace, unique_name):
    with pytest.raises(ClientError) as caught:
        alarm(cloudwatch, unique_name, namespace, ComparisonOperator="LessThanLowerOrGreaterThanUpperThreshold")
    assert _error(caught) == ("ValidationError", "Comparison operators for ranges require ThresholdMetricId to be set")


# --- dashboards ---------------------------------------------------------------------------------------------


def test_dashboards(cloudwatch, unique_name):
    body = json.dumps(
        {
            "widgets": [
                {"type": "text", "x": 0, "y": 0, "width": 6, "height": 3, "properties": {"markdown": "# hi"}},
                {"type": "metric", "x": 6, "y": 0, "width": 12, "height": 6, "properties": {"metrics": []}},
            ]
        }
    )
    names = [f"{unique_name}-{i}" for i in range(3)]
    for name in names:
        assert cloudwatch.put_dashboard(DashboardName=name, DashboardBody=body)["DashboardValidationMessages"] == []
    got = cloudwatch.get_dashboard(DashboardName=names[0])
    assert got["DashboardBody"] == body
    assert got["DashboardArn"] == f"arn:aws:cloudwatch::000000000000:dashboard/{names[0]}"
    listed = cloudwatch.list_dashboards(DashboardNamePrefix=unique_name)["DashboardEntries"]
    assert [entry["DashboardName"] for entry in listed] == names
    assert listed[0]["Size"] == len(body)

    with pytest.raises(ClientError) as caught:
        cloudwatch.delete_dashboards(DashboardNames=[names[0], f"{unique_name}-nope"])
    assert _error(caught) == ("ResourceNotFound", "The specified dashboard does not exist.")
    cloudwatch.delete_dashboards(DashboardNames=names[:2])
    assert [
        e["DashboardName"] for e in cloudwatch.list_dashboards(DashboardNamePrefix=unique_name)["DashboardEntries"]
    ] == [names[2]]
    with pytest.raises(ClientError) as caught:
        cloudwatch.get_dashboard(DashboardName=names[0])
    assert _error(caught)[0] == "ResourceNotFound"

    with pytest.raises(ClientError) as caught:
        cloudwatch.put_dashboard(DashboardName=unique_name, DashboardBody="{not json")
    assert _error(caught) == ("InvalidParameterInput", "The field DashboardBody must be a valid JSON object")
    with pytest.raises(ClientError) as caught:
        cloudwatch.put_dashboard(DashboardName=unique_name, DashboardBody=json.dumps({"widgets": [{"x": 0}]}))
    assert _error(caught)[0] == "InvalidParameterInput"
    with pytest.raises(ClientError) as caught:
        cloudwatch.put_dashboard(DashboardName="bad name!", DashboardBody=body)
    assert _error(caught) == (
        "InvalidParameterInput",
        "The value for field DashboardName contains invalid characters. It can only contain alphanumerics, "
        "dash (-) and underscore (_).",
    )


def test_metric_streams_are_not_served(cloudwatch):
    with pytest.raises(ClientError) as caught:
        cloudwatch.list_metric_streams()
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501


# --- surviving a restart ----------------------------------------------------------------------------------


def test_alarms_survive_a_restart(lamina_factory):
    server = lamina_factory()
    cloudwatch = server.client("cloudwatch")
    namespace = "Lamina/Restart"
    alarm(cloudwatch, "kept", namespace, TreatMissingData="breaching", Tags=[{"Key": "a", "Value": "b"}])
    wait_state(cloudwatch, "kept", "ALARM")
    cloudwatch.put_composite_alarm(AlarmName="parent", AlarmRule="ALARM(kept)")
    wait_state(cloudwatch, "parent", "ALARM")
    cloudwatch.put_dashboard(DashboardName="board", DashboardBody=json.dumps({"widgets": []}))
    before = state(cloudwatch, "kept")

    server.restart(kill=True)
    cloudwatch = server.client("cloudwatch")
    after = state(cloudwatch, "kept")
    assert after["StateValue"] == "ALARM" and after["StateReason"] == before["StateReason"]
    assert after["StateUpdatedTimestamp"] == before["StateUpdatedTimestamp"]
    assert state(cloudwatch, "parent")["StateValue"] == "ALARM"
    assert cloudwatch.list_tags_for_resource(ResourceARN=after["AlarmArn"])["Tags"] == [{"Key": "a", "Value": "b"}]
    history = cloudwatch.describe_alarm_history(AlarmName="kept")["AlarmHistoryItems"]
    assert [i["HistorySummary"] for i in history][-2:] == [
        "Alarm updated from INSUFFICIENT_DATA to ALARM",
        'Alarm "kept" created',
    ]
    assert json.loads(cloudwatch.get_dashboard(DashboardName="board")["DashboardBody"]) == {"widgets": []}
    # Evaluation goes on after the restart.
    put(cloudwatch, namespace, 0.0)
    wait_state(cloudwatch, "kept", "OK")
    wait_state(cloudwatch, "parent", "OK")
