"""Provisioned concurrency against a live server: the Put/Get/List/Delete API with AWS's
shapes and errors, instances started ahead of time (no Init Duration, initialization type
provisioned-concurrency), spill-over to on-demand instances, and configs that come back
after kill -9.
"""

from __future__ import annotations

import base64
import json
import threading

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ROLE, make_zip

from .test_lambda_helpers import error_of, function_arn, wait_until

CODE = {
    "app.py": """
    import os, time

    def handler(event, context):
        time.sleep(event.get("sleep", 0))
        return {"init": os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE"), "version": context.function_version}
    """
}

CONFIG_KEYS = {
    "RequestedProvisionedConcurrentExecutions",
    "AvailableProvisionedConcurrentExecutions",
    "AllocatedProvisionedConcurrentExecutions",
    "Status",
    "LastModified",
}


def wait_ready(client, name: str, qualifier: str, timeout: float = 30.0) -> dict:
    def ready():
        config = client.get_provisioned_concurrency_config(FunctionName=name, Qualifier=qualifier)
        assert config["Status"] != "FAILED", config
        return config if config["Status"] == "READY" else None

    return wait_until(ready, timeout=timeout, interval=0.1, what=f"provisioned concurrency of {name}:{qualifier}")


def invoke_tail(client, name: str, event: dict | None = None, **more) -> tuple[dict, str]:
    response = client.invoke(FunctionName=name, Payload=json.dumps(event or {}).encode(), LogType="Tail", **more)
    return json.loads(response["Payload"].read()), base64.b64decode(response["LogResult"]).decode()


def test_provisioned_concurrency_on_an_alias(lamina, lambda_client, create_function, unique_name):
    create_function(code=CODE, Publish=True, Timeout=30)
    lambda_client.create_alias(FunctionName=unique_name, Name="live", FunctionVersion="1")

    response = lambda_client.put_provisioned_concurrency_config(
        FunctionName=unique_name, Qualifier="live", ProvisionedConcurrentExecutions=2
    )
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert response["Status"] == "IN_PROGRESS"
    assert response["RequestedProvisionedConcurrentExecutions"] == 2
    assert set(response) - {"ResponseMetadata", "StatusReason"} <= CONFIG_KEYS

    config = wait_ready(lambda_client, unique_name, "live")
    assert config["RequestedProvisionedConcurrentExecutions"] == 2
    assert config["AllocatedProvisionedConcurrentExecutions"] == 2
    assert config["AvailableProvisionedConcurrentExecutions"] == 2
    assert "StatusReason" not in config
    assert isinstance(config["LastModified"], str) and config["LastModified"]

    # Served by an instance started ahead of time: no cold start to report.
    result, tail = invoke_tail(lambda_client, unique_name, Qualifier="live")
    assert result == {"init": "provisioned-concurrency", "version": "1"}
    assert "Init Duration" not in tail
    assert tail.startswith("START RequestId:")

    # Three at once: the two provisioned instances, and one on-demand spill-over (a cold start).
    results = invoke_together(lamina, unique_name, 3, Qualifier="live")
    kinds = sorted((result["init"], "Init Duration" in tail) for result, tail in results)
    assert kinds == [("on-demand", True), ("provisioned-concurrency", False), ("provisioned-concurrency", False)]

    # $LATEST has no provisioned concurrency: on-demand.
    result, _ = invoke_tail(lambda_client, unique_name)
    assert result == {"init": "on-demand", "version": "$LATEST"}


def test_provisioned_concurrency_follows_its_alias_to_a_new_version(
    lamina, lambda_client, create_function, unique_name
):
    create_function(code=CODE, Publish=True, Timeout=30)
    lambda_client.create_alias(FunctionName=unique_name, Name="live", FunctionVersion="1")
    lambda_client.put_provisioned_concurrency_config(
        FunctionName=unique_name, Qualifier="live", ProvisionedConcurrentExecutions=1
    )
    wait_ready(lambda_client, unique_name, "live")
    lambda_client.update_function_configuration(FunctionName=unique_name, Environment={"Variables": {"STAGE": "2"}})
    wait_until(
        lambda: (
            lambda_client.get_function(FunctionName=unique_name)["Configuration"]["LastUpdateStatus"] == "Successful"
        ),
        what="update",
    )
    assert lambda_client.publish_version(FunctionName=unique_name)["Version"] == "2"

    lambda_client.update_alias(FunctionName=unique_name, Name="live", FunctionVersion="2")
    config = wait_ready(lambda_client, unique_name, "live")
    assert config["AllocatedProvisionedConcurrentExecutions"] == 1
    result, tail = invoke_tail(lambda_client, unique_name, Qualifier="live")
    assert result == {"init": "provisioned-concurrency", "version": "2"}  # served warm by the moved instance
    assert "Init Duration" not in tail
    # Version 1 lost its provisioned instance: it starts on demand now.
    result, _ = invoke_tail(lambda_client, unique_name, Qualifier="1")
    assert result == {"init": "on-demand", "version": "1"}


def invoke_together(server, name: str, count: int, **more) -> list[tuple[dict, str]]:
    """`count` invokes at the same moment (each sleeps 1 s), one thread and client each."""
    clients = [server.client("lambda") for _ in range(count)]
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        results[index] = invoke_tail(clients[index], name, {"sleep": 1.0}, **more)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_provisioned_concurrency_put_again_changes_the_count(lamina, lambda_client, create_function, unique_name):
    create_function(code=CODE, Publish=True, Timeout=30)
    # A second Put while the first is still starting instances: the second count wins.
    lambda_client.put_provisioned_concurrency_config(
        FunctionName=unique_name, Qualifier="1", ProvisionedConcurrentExecutions=1
    )
    lambda_client.put_provisioned_concurrency_config(
        FunctionName=unique_name, Qualifier="1", ProvisionedConcurrentExecutions=2
    )
    config = wait_ready(lambda_client, unique_name, "1")
    assert (config["RequestedProvisionedConcurrentExecutions"], config["AllocatedProvisionedConcurrentExecutions"]) == (
        2,
        2,
    )
    kinds = sorted(result["init"] for result, _ in invoke_together(lamina, unique_name, 3, Qualifier="1"))
    assert kinds == ["on-demand", "provisioned-concurrency", "provisioned-concurrency"]

    # Down to one: the other provisioned instance goes.
    lambda_client.put_provisioned_concurrency_config(
        FunctionName=unique_name, Qualifier="1", ProvisionedConcurrentExecutions=1
    )
    config = wait_ready(lambda_client, unique_name, "1")
    assert (config["RequestedProvisionedConcurrentExecutions"], config["AllocatedProvisionedConcurrentExecutions"]) == (
        1,
        1,
    )
    kinds = [result["init"] for result, _ in invoke_together(lamina, unique_name, 3, Qualifier="1")]
    assert kinds.count("provisioned-concurrency") == 1


def test_provisioned_concurrency_on_a_version_list_and_delete(lambda_client, create_function, unique_name):
    create_function(code=CODE, Publish=True)
    lambda_client.create_alias(FunctionName=unique_name, Name="live", FunctionVersion="1")
    response = lambda_client.put_provisioned_concurrency_config(
        FunctionName=unique_name, Qualifier="1", ProvisionedConcurrentExecutions=1
    )
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert response["Status"] == "IN_PROGRESS"
    assert response["RequestedProvisionedConcurrentExecutions"] == 1
    # An alias of an already provisioned version cannot have a config of its own, nor the reverse.
    with pytest.raises(ClientError) as excinfo:
        lambda_client.put_provisioned_concurrency_config(
            FunctionName=unique_name, Qualifier="live", ProvisionedConcurrentExecutions=1
        )
    code, status, message = error_of(excinfo)
    assert (code, status) == ("ResourceConflictException", 409)
    assert message == "Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version"

    lambda_client.update_function_configuration(FunctionName=unique_name, Environment={"Variables": {"STAGE": "two"}})
    wait_until(
        lambda: lambda_client.get_function_configuration(FunctionName=unique_name)["LastUpdateStatus"] == "Successful",
        what="the update",
    )
    assert lambda_client.publish_version(FunctionName=unique_name)["Version"] == "2"
    lambda_client.create_alias(FunctionName=unique_name, Name="blue", FunctionVersion="2")
    lambda_client.create_alias(FunctionName=unique_name, Name="green", FunctionVersion="2")
    lambda_client.put_provisioned_concurrency_config(
        FunctionName=unique_name, Qualifier="blue", ProvisionedConcurrentExecutions=1
    )
    with pytest.raises(ClientError) as excinfo:
        lambda_client.put_provisioned_concurrency_config(
            FunctionName=unique_name, Qualifier="2", ProvisionedConcurrentExecutions=1
        )
    code, status, message = error_of(excinfo)
    assert (code, status) == ("ResourceConflictException", 409)
    assert message == "Version is pointed by a Provisioned Concurrency alias"
    # Two aliases of one version each get their own count (the version's instances are shared).
    lambda_client.put_provisioned_concurrency_config(
        FunctionName=unique_name, Qualifier="green", ProvisionedConcurrentExecutions=2
    )
    for qualifier in ("1", "blue", "green"):
        wait_ready(lambda_client, unique_name, qualifier)

    result, tail = invoke_tail(lambda_client, unique_name, Qualifier="1")
    assert result == {"init": "provisioned-concurrency", "version": "1"}
    assert "Init Duration" not in tail

    listed = lambda_client.list_provisioned_concurrency_configs(FunctionName=unique_name)[
        "ProvisionedConcurrencyConfigs"
    ]
    by_arn = {config["FunctionArn"]: config for config in listed}
    assert set(by_arn) == {function_arn(unique_name, q) for q in ("1", "blue", "green")}
    for config in listed:
        assert set(config) - {"StatusReason"} == CONFIG_KEYS | {"FunctionArn"}
        assert config["Status"] == "READY"
    allocated = {
        arn.rsplit(":", 1)[1]: (
            config["RequestedProvisionedConcurrentExecutions"],
            config["AllocatedProvisionedConcurrentExecutions"],
            config["AvailableProvisionedConcurrentExecutions"],
        )
        for arn, config in by_arn.items()
    }
    assert allocated == {"1": (1, 1, 1), "blue": (1, 1, 1), "green": (2, 2, 2)}
    page = lambda_client.list_provisioned_concurrency_configs(FunctionName=unique_name, MaxItems=2)
    assert len(page["ProvisionedConcurrencyConfigs"]) == 2 and page["NextMarker"]
    rest = lambda_client.list_provisioned_concurrency_configs(FunctionName=unique_name, Marker=page["NextMarker"])
    assert len(rest["ProvisionedConcurrencyConfigs"]) == 1 and "NextMarker" not in rest

    response = lambda_client.delete_provisioned_concurrency_config(FunctionName=unique_name, Qualifier="green")
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as excinfo:
        lambda_client.get_provisioned_concurrency_config(FunctionName=unique_name, Qualifier="green")
    code, status, message = error_of(excinfo)
    assert (code, status) == ("ProvisionedConcurrencyConfigNotFoundException", 404)
    assert message == "No Provisioned Concurrency Config found for this function"
    with pytest.raises(ClientError) as excinfo:
        lambda_client.delete_provisioned_concurrency_config(FunctionName=unique_name, Qualifier="green")
    assert error_of(excinfo)[:2] == ("ProvisionedConcurrencyConfigNotFoundException", 404)
    listed = lambda_client.list_provisioned_concurrency_configs(FunctionName=unique_name)[
        "ProvisionedConcurrencyConfigs"
    ]
    assert sorted(config["FunctionArn"] for config in listed) == [
        function_arn(unique_name, "1"),
        function_arn(unique_name, "blue"),
    ]
    # The other alias of that version keeps its provisioned instance.
    result, tail = invoke_tail(lambda_client, unique_name, Qualifier="blue")
    assert result == {"init": "provisioned-concurrency", "version": "2"}
    assert "Init Duration" not in tail

    lambda_client.delete_provisioned_concurrency_config(FunctionName=unique_name, Qualifier="1")
    lambda_client.delete_provisioned_concurrency_config(FunctionName=unique_name, Qualifier="blue")
    assert (
        lambda_client.list_provisioned_concurrency_configs(FunctionName=unique_name)["ProvisionedConcurrencyConfigs"]
        == []
    )
    # Without its provisioned instances the version starts on demand again.
    result, tail = invoke_tail(lambda_client, unique_name, Qualifier="1")
    assert result == {"init": "on-demand", "version": "1"}
    assert "Init Duration" in tail


def test_provisioned_concurrency_errors(lambda_client, create_function, unique_name):
    create_function(code=CODE, Publish=True)
    with pytest.raises(ClientError) as excinfo:
        lambda_client.put_provisioned_concurrency_config(
            FunctionName=unique_name, Qualifier="$LATEST", ProvisionedConcurrentExecutions=1
        )
    assert error_of(excinfo)[:2] == ("InvalidParameterValueException", 400)

    lambda_client.create_alias(FunctionName=unique_name, Name="unpublished", FunctionVersion="$LATEST")
    with pytest.raises(ClientError) as excinfo:
        lambda_client.put_provisioned_concurrency_config(
            FunctionName=unique_name, Qualifier="unpublished", ProvisionedConcurrentExecutions=1
        )
    assert error_of(excinfo)[:2] == ("InvalidParameterValueException", 400)

    with pytest.raises(ClientError) as excinfo:
        lambda_client.put_provisioned_concurrency_config(
            FunctionName=unique_name, Qualifier="nosuchalias", ProvisionedConcurrentExecutions=1
        )
    assert error_of(excinfo)[:2] == ("ResourceNotFoundException", 404)

    with pytest.raises(ClientError) as excinfo:
        lambda_client.put_provisioned_concurrency_config(
            FunctionName=unique_name, Qualifier="7", ProvisionedConcurrentExecutions=1
        )
    assert error_of(excinfo)[:2] == ("ResourceNotFoundException", 404)

    with pytest.raises(ClientError) as excinfo:
        lambda_client.get_provisioned_concurrency_config(FunctionName=unique_name, Qualifier="1")
    assert error_of(excinfo)[:2] == ("ProvisionedConcurrencyConfigNotFoundException", 404)
    for call in (lambda_client.get_provisioned_concurrency_config, lambda_client.delete_provisioned_concurrency_config):
        with pytest.raises(ClientError) as excinfo:
            call(FunctionName=unique_name, Qualifier="$LATEST")
        assert error_of(excinfo)[:2] == ("InvalidParameterValueException", 400)

    # More than the function's reserved concurrency.
    lambda_client.put_function_concurrency(FunctionName=unique_name, ReservedConcurrentExecutions=2)
    with pytest.raises(ClientError) as excinfo:
        lambda_client.put_provisioned_concurrency_config(
            FunctionName=unique_name, Qualifier="1", ProvisionedConcurrentExecutions=3
        )
    code, status, message = error_of(excinfo)
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert "reservedConcurrentExecution" in message
    with pytest.raises(ClientError) as excinfo:
        lambda_client.get_provisioned_concurrency_config(FunctionName=unique_name, Qualifier="1")
    assert error_of(excinfo)[0] == "ProvisionedConcurrencyConfigNotFoundException"
    # Up to the reservation is fine.
    lambda_client.put_provisioned_concurrency_config(
        FunctionName=unique_name, Qualifier="1", ProvisionedConcurrentExecutions=2
    )
    assert wait_ready(lambda_client, unique_name, "1")["AllocatedProvisionedConcurrentExecutions"] == 2
    # The reservation cannot then shrink below what is provisioned.
    with pytest.raises(ClientError) as excinfo:
        lambda_client.put_function_concurrency(FunctionName=unique_name, ReservedConcurrentExecutions=1)
    code, status, message = error_of(excinfo)
    assert (code, status) == ("InvalidParameterValueException", 400) and "provisioned concurrency [2]" in message
    assert lambda_client.get_function_concurrency(FunctionName=unique_name)["ReservedConcurrentExecutions"] == 2
    lambda_client.delete_provisioned_concurrency_config(FunctionName=unique_name, Qualifier="1")
    lambda_client.put_function_concurrency(FunctionName=unique_name, ReservedConcurrentExecutions=1)

    with pytest.raises(ClientError) as excinfo:
        lambda_client.get_provisioned_concurrency_config(FunctionName=unique_name + "-missing", Qualifier="1")
    assert error_of(excinfo)[:2] == ("ResourceNotFoundException", 404)


def test_provisioned_concurrency_survives_kill_9(lamina_factory):
    server = lamina_factory()
    client = server.client("lambda")
    client.create_function(
        FunctionName="warm",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip(CODE)},
        Publish=True,
    )
    client.put_provisioned_concurrency_config(FunctionName="warm", Qualifier="1", ProvisionedConcurrentExecutions=2)
    wait_ready(client, "warm", "1")

    server.restart(kill=True)
    client = server.client("lambda")
    config = wait_ready(client, "warm", "1")
    assert config["AllocatedProvisionedConcurrentExecutions"] == 2
    assert config["AvailableProvisionedConcurrentExecutions"] == 2
    result, tail = invoke_tail(client, "warm", Qualifier="1")
    assert result == {"init": "provisioned-concurrency", "version": "1"}
    assert "Init Duration" not in tail


CRASHER = {
    "app.py": """
    import os, uuid

    INSTANCE = uuid.uuid4().hex  # each instance's own (pids are all 1, in their namespaces)

    def handler(event, context):
        if event.get("crash"):
            os._exit(3)
        return {"init": os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE"), "instance": INSTANCE}
    """
}


def test_provisioned_concurrency_comes_out_of_the_unreserved_pool(lamina_factory):
    # As on AWS: a function without a reservation has its provisioned concurrency carved out
    # of the account's unreserved concurrency, which keeps its minimum of 100; those
    # instances are the function's own, whatever the rest of the account is doing.
    server = lamina_factory(LAMINA_ACCOUNT_CONCURRENCY="110")
    client = server.client("lambda")
    for name in ("pc", "other"):
        client.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": make_zip(CODE)},
            Publish=True,
            Timeout=30,
        )
    assert client.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 110
    with pytest.raises(ClientError) as excinfo:
        client.put_provisioned_concurrency_config(FunctionName="pc", Qualifier="1", ProvisionedConcurrentExecutions=11)
    code, status, message = error_of(excinfo)
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert "below its minimum value of [100]" in message
    client.put_provisioned_concurrency_config(FunctionName="pc", Qualifier="1", ProvisionedConcurrentExecutions=2)
    assert client.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 108
    wait_ready(client, "pc", "1")
    # What is provisioned counts against a reservation elsewhere in the account, too.
    with pytest.raises(ClientError) as excinfo:
        client.put_function_concurrency(FunctionName="other", ReservedConcurrentExecutions=9)
    assert error_of(excinfo)[:2] == ("InvalidParameterValueException", 400)
    client.put_function_concurrency(FunctionName="other", ReservedConcurrentExecutions=8)
    assert client.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 100
    client.delete_provisioned_concurrency_config(FunctionName="pc", Qualifier="1")
    assert client.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 102


def test_a_provisioned_instance_that_dies_is_replaced(lamina, lambda_client, create_function, unique_name):
    create_function(code=CRASHER, Publish=True, Timeout=10)
    lambda_client.put_provisioned_concurrency_config(
        FunctionName=unique_name, Qualifier="1", ProvisionedConcurrentExecutions=1
    )
    wait_ready(lambda_client, unique_name, "1")
    first, _ = invoke_tail(lambda_client, unique_name, Qualifier="1")
    assert first["init"] == "provisioned-concurrency"

    response = lambda_client.invoke(FunctionName=unique_name, Qualifier="1", Payload=b'{"crash": true}')
    assert response["FunctionError"] == "Unhandled"
    assert json.loads(response["Payload"].read())["errorType"] == "Runtime.ExitError"

    # A new provisioned instance takes its place in the background: the next invoke is not a
    # cold start, and it runs in another instance.
    def replaced():
        result, tail = invoke_tail(lambda_client, unique_name, Qualifier="1")
        return (result, tail) if result["init"] == "provisioned-concurrency" and "Init Duration" not in tail else None

    result, _ = wait_until(replaced, timeout=15, interval=0.2, what="a replacement provisioned instance")
    assert result["instance"] != first["instance"]
    config = lambda_client.get_provisioned_concurrency_config(FunctionName=unique_name, Qualifier="1")
    assert config["Status"] == "READY" and config["AvailableProvisionedConcurrentExecutions"] == 1


def test_deleting_an_alias_or_version_takes_its_provisioned_concurrency_along(lamina_factory):
    server = lamina_factory(LAMINA_ACCOUNT_CONCURRENCY="200")
    client = server.client("lambda")
    client.create_function(
        FunctionName="f",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip(CODE)},
        Publish=True,
    )
    client.update_function_configuration(FunctionName="f", Environment={"Variables": {"VERSION": "2"}})
    wait_until(
        lambda: client.get_function_configuration(FunctionName="f")["LastUpdateStatus"] == "Successful",
        what="the update",
    )
    assert client.publish_version(FunctionName="f")["Version"] == "2"
    client.create_alias(FunctionName="f", Name="live", FunctionVersion="1")
    client.put_provisioned_concurrency_config(FunctionName="f", Qualifier="live", ProvisionedConcurrentExecutions=2)
    client.put_provisioned_concurrency_config(FunctionName="f", Qualifier="2", ProvisionedConcurrentExecutions=3)
    wait_ready(client, "f", "live")
    wait_ready(client, "f", "2")
    assert client.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 195

    client.delete_alias(FunctionName="f", Name="live")
    assert client.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 197
    configs = client.list_provisioned_concurrency_configs(FunctionName="f")["ProvisionedConcurrencyConfigs"]
    assert [c["FunctionArn"].rsplit(":", 1)[1] for c in configs] == ["2"]

    client.delete_function(FunctionName="f", Qualifier="2")
    assert client.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 200
    assert client.list_provisioned_concurrency_configs(FunctionName="f")["ProvisionedConcurrencyConfigs"] == []
    # No provisioned instance is left running or replaced: version 1 starts cold again.
    result, tail = invoke_tail(client, "f", Qualifier="1")
    assert result == {"init": "on-demand", "version": "1"} and "Init Duration" in tail
