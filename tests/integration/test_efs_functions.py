"""Functions with FileSystemConfigs: an EFS access point mounted read-write at /mnt/<name>
in every instance, files owned by the access point's PosixUser, shared between functions;
AWS's validation; the configuration surviving a restart. Mounting needs isolation (root on
Linux); the API checks do not."""

from __future__ import annotations

import json
import os
import stat
import sys
import urllib.request

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ROLE, make_zip

needs_root = pytest.mark.skipif(
    sys.platform != "linux" or os.geteuid() != 0, reason="mounting file systems needs sandbox isolation (root on Linux)"
)
VPC = {"SubnetIds": ["subnet-0a1b2c3d4e"], "SecurityGroupIds": ["sg-0123456789"]}

FILES = """
import json, os

def handler(event, context):
    path = event["path"]
    if event.get("write") is not None:
        with open(path, "w") as handle:
            handle.write(event["write"])
    try:
        with open(path) as handle:
            text = handle.read()
    except OSError as error:
        text = "error: " + type(error).__name__
    probe = None
    if event.get("probe"):
        try:
            with open(event["probe"], "w") as handle:
                handle.write("x")
            probe = "written"
        except OSError as error:
            probe = type(error).__name__
    info = os.stat(path) if os.path.exists(path) else None
    return {"text": text, "uid": os.getuid(), "owner": info and [info.st_uid, info.st_gid],
            "mnt": sorted(os.listdir("/mnt")),
            "probe": probe}
"""


def _access_point(efs, fs_id: str, uid: int, path: str = "/shared", mode: str = "775") -> dict:
    return efs.create_access_point(
        FileSystemId=fs_id,
        PosixUser={"Uid": uid, "Gid": uid},
        RootDirectory={"Path": path, "CreationInfo": {"OwnerUid": uid, "OwnerGid": uid, "Permissions": mode}},
    )


def _invoke(client, name: str, event: dict) -> dict:
    response = client.invoke(FunctionName=name, Payload=json.dumps(event).encode())
    payload = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, payload
    return payload


@pytest.fixture
def efs(lamina):
    return lamina.client("efs")


@pytest.fixture
def file_system(efs, unique_name):
    description = efs.create_file_system(CreationToken=unique_name)
    efs.create_mount_target(FileSystemId=description["FileSystemId"], SubnetId="subnet-0a1b2c3d4e")
    return description


def _fs_config(point: dict, path: str = "/mnt/data") -> list[dict]:
    return [{"Arn": point["AccessPointArn"], "LocalMountPath": path}]


@needs_root
def test_two_functions_share_an_access_point(lamina, efs, file_system, create_function, lambda_client, unique_name):
    fs_id = file_system["FileSystemId"]
    point = _access_point(efs, fs_id, 1000)
    writer = create_function(
        code={"app.py": FILES}, name=unique_name + "-w", VpcConfig=VPC, FileSystemConfigs=_fs_config(point)
    )
    reader = create_function(
        code={"app.py": FILES}, name=unique_name + "-r", VpcConfig=VPC, FileSystemConfigs=_fs_config(point)
    )
    written = _invoke(lambda_client, writer["FunctionName"], {"path": "/mnt/data/x", "write": "hello efs"})
    assert written["text"] == "hello efs"
    assert written["mnt"] == ["data"]  # /mnt is the sandbox's own: nothing of the host's shows
    read = _invoke(lambda_client, reader["FunctionName"], {"path": "/mnt/data/x"})
    assert read["text"] == "hello efs"

    # On the file system, the file is the access point's PosixUser's, and so is the root
    # directory made from its CreationInfo on the first mount, with its permissions.
    on_disk = os.path.join(lamina.data_dir, "efs", fs_id, "shared")
    root = os.stat(on_disk)
    assert (root.st_uid, root.st_gid, stat.S_IMODE(root.st_mode)) == (1000, 1000, 0o775)
    made = os.stat(os.path.join(on_disk, "x"))
    assert (made.st_uid, made.st_gid) == (1000, 1000)
    # The function itself is not that uid: its process stays the sandbox's nobody, and
    # through the mount its own files show as its own.
    assert written["uid"] == 65534 and written["owner"] == [65534, 65534]

    # Another access point of the same file system, with another PosixUser, sees the file's
    # owner as the file system has it, and may not write into a 0755 directory of 1000's.
    other = efs.create_access_point(FileSystemId=fs_id, PosixUser={"Uid": 2000, "Gid": 2000})
    outsider = create_function(
        code={"app.py": FILES}, name=unique_name + "-o", VpcConfig=VPC, FileSystemConfigs=_fs_config(other, "/mnt/all")
    )
    seen = _invoke(lambda_client, outsider["FunctionName"], {"path": "/mnt/all/shared/x", "probe": "/mnt/all/shared/y"})
    assert seen["text"] == "hello efs" and seen["owner"] == [1000, 1000]
    assert seen["probe"] == "PermissionError"


@needs_root
def test_a_policy_without_client_write_mounts_read_only(efs, file_system, create_function, lambda_client, unique_name):
    fs_id = file_system["FileSystemId"]
    point = _access_point(efs, fs_id, 1000)
    deny_write = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "elasticfilesystem:ClientMount"},
            {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "elasticfilesystem:ClientWrite"},
        ],
    }
    efs.put_file_system_policy(FileSystemId=fs_id, Policy=json.dumps(deny_write))
    function = create_function(code={"app.py": FILES}, VpcConfig=VPC, FileSystemConfigs=_fs_config(point))
    result = _invoke(lambda_client, function["FunctionName"], {"path": "/mnt/data/none", "probe": "/mnt/data/y"})
    assert result["probe"] == "OSError"  # EROFS: a read-only file system

    deny_mount = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "elasticfilesystem:ClientMount"}],
    }
    efs.put_file_system_policy(FileSystemId=fs_id, Policy=json.dumps(deny_mount))
    lambda_client.update_function_configuration(FunctionName=function["FunctionName"], Description="remount")
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=function["FunctionName"])
    with pytest.raises(ClientError) as excinfo:
        lambda_client.invoke(FunctionName=function["FunctionName"], Payload=b"{}")
    assert excinfo.value.response["Error"]["Code"] == "EFSMountFailureException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_file_system_configs_are_validated_and_shown(efs, file_system, create_function, lambda_client, unique_name):
    point = _access_point(efs, file_system["FileSystemId"], 1000)
    arn = point["AccessPointArn"]
    with pytest.raises(ClientError) as excinfo:
        create_function(FileSystemConfigs=_fs_config(point))
    assert excinfo.value.response["Error"] == {
        "Code": "InvalidParameterValueException",
        "Message": f"Function must be configured to execute in a VPC to reference access point {arn}.",
    }
    with pytest.raises(ClientError) as excinfo:
        create_function(VpcConfig=VPC, FileSystemConfigs=_fs_config(point, "/data"))
    assert excinfo.value.response["Error"]["Code"] == "ValidationException"
    assert "localMountPath" in excinfo.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as excinfo:
        create_function(VpcConfig=VPC, FileSystemConfigs=_fs_config(point) + _fs_config(point, "/mnt/two"))
    assert excinfo.value.response["Error"]["Code"] == "ValidationException"
    missing = arn.rsplit("/", 1)[0] + "/fsap-0123456789abcdef0"
    with pytest.raises(ClientError) as excinfo:
        create_function(VpcConfig=VPC, FileSystemConfigs=[{"Arn": missing, "LocalMountPath": "/mnt/data"}])
    assert excinfo.value.response["Error"]["Code"] == "InvalidParameterValueException"

    function = create_function(VpcConfig=VPC, FileSystemConfigs=_fs_config(point))
    name = function["FunctionName"]
    shown = lambda_client.get_function_configuration(FunctionName=name)
    assert shown["FileSystemConfigs"] == [{"Arn": arn, "LocalMountPath": "/mnt/data"}]
    assert shown["VpcConfig"]["SubnetIds"] == VPC["SubnetIds"]
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=name)
    with pytest.raises(ClientError) as excinfo:
        lambda_client.update_function_configuration(
            FunctionName=name, VpcConfig={"SubnetIds": [], "SecurityGroupIds": []}
        )
    assert excinfo.value.response["Error"]["Message"] == (
        f"Function VPC configuration cannot be removed with access point {arn} referenced."
    )
    lambda_client.update_function_configuration(FunctionName=name, FileSystemConfigs=[])
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=name)
    assert "FileSystemConfigs" not in lambda_client.get_function_configuration(FunctionName=name)


def test_configs_and_files_survive_a_restart(lamina_factory):
    server = lamina_factory()
    efs, client = server.client("efs"), server.client("lambda")
    fs_id = efs.create_file_system(CreationToken="kept")["FileSystemId"]
    point = _access_point(efs, fs_id, 1000)
    client.create_function(
        FunctionName="kept",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": FILES})},
        VpcConfig=VPC,
        FileSystemConfigs=_fs_config(point),
    )
    client.get_waiter("function_active_v2").wait(FunctionName="kept")
    isolated = sys.platform == "linux" and os.geteuid() == 0
    if isolated:
        assert _invoke(client, "kept", {"path": "/mnt/data/kept", "write": "before"})["text"] == "before"

    server.restart(kill=True)
    efs, client = server.client("efs"), server.client("lambda")
    (kept,) = efs.describe_file_systems(CreationToken="kept")["FileSystems"]
    assert kept["FileSystemId"] == fs_id
    (again,) = efs.describe_access_points(FileSystemId=fs_id)["AccessPoints"]
    assert again["AccessPointId"] == point["AccessPointId"]
    assert client.get_function_configuration(FunctionName="kept")["FileSystemConfigs"] == _fs_config(point)
    if isolated:
        assert _invoke(client, "kept", {"path": "/mnt/data/kept"})["text"] == "before"


NODE_FILES = """
const fs = require("fs");
exports.handler = async (event) => {
  fs.writeFileSync(event.path, event.write);
  return { text: fs.readFileSync(event.path, "utf8"), uid: process.getuid() };
};
"""


@needs_root
def test_a_node_function_mounts_it_too(lamina, efs, file_system, create_function, lambda_client):
    from tests.integration.test_nodejs import RUNTIME

    if RUNTIME is None:
        pytest.skip("no node on this host for any nodejs runtime")
    point = _access_point(efs, file_system["FileSystemId"], 1000)
    function = create_function(
        code={"index.js": NODE_FILES},
        handler="index.handler",
        Runtime=RUNTIME,
        MemorySize=1024,
        Timeout=60,
        VpcConfig=VPC,
        FileSystemConfigs=_fs_config(point),
    )
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=function["FunctionName"])
    result = _invoke(lambda_client, function["FunctionName"], {"path": "/mnt/data/from-node", "write": "js"})
    assert result == {"text": "js", "uid": 65534}
    made = os.stat(os.path.join(lamina.data_dir, "efs", file_system["FileSystemId"], "shared", "from-node"))
    assert (made.st_uid, made.st_gid) == (1000, 1000)


def test_reset_removes_the_file_systems_files(lamina_factory):
    server = lamina_factory()
    efs = server.client("efs")
    fs_id = efs.create_file_system(CreationToken="gone")["FileSystemId"]
    directory = os.path.join(server.data_dir, "efs", fs_id)
    with open(os.path.join(directory, "file"), "w") as handle:
        handle.write("x")
    request = urllib.request.Request(f"{server.url}/_lamina/reset", method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
    assert not os.path.exists(directory)
    assert efs.describe_file_systems()["FileSystems"] == []


@needs_root
def test_a_snapstart_version_restores_with_its_mount(lamina, efs, file_system, create_function, lambda_client):
    point = _access_point(efs, file_system["FileSystemId"], 1000)
    function = create_function(
        code={"app.py": FILES},
        VpcConfig=VPC,
        FileSystemConfigs=_fs_config(point),
        SnapStart={"ApplyOn": "PublishedVersions"},
    )
    name = function["FunctionName"]
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=name)
    version = lambda_client.publish_version(FunctionName=name)["Version"]
    lambda_client.get_waiter("published_version_active").wait(FunctionName=name, Qualifier=version)
    response = lambda_client.invoke(
        FunctionName=name, Qualifier=version, Payload=json.dumps({"path": "/mnt/data/snap", "write": "s"}).encode()
    )
    assert json.loads(response["Payload"].read())["text"] == "s"
    made = os.stat(os.path.join(lamina.data_dir, "efs", file_system["FileSystemId"], "shared", "snap"))
    assert made.st_uid == 1000
