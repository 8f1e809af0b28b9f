"""Amazon EFS's API through boto3: file systems (CreationToken idempotency, paging, sizes),
access points, mount targets, tags, policies, and AWS's errors."""

from __future__ import annotations

import json
import os
import re

import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def efs(lamina):
    return lamina.client("efs")


@pytest.fixture
def file_system(efs, unique_name):
    """file_system(**more) -> a new file system's description; deleted after the test."""
    made = []

    def create(**more) -> dict:
        description = efs.create_file_system(CreationToken=f"{unique_name}-{len(made)}", **more)
        made.append(description["FileSystemId"])
        return description

    yield create
    for fs_id in made:
        try:
            for target in efs.describe_mount_targets(FileSystemId=fs_id)["MountTargets"]:
                efs.delete_mount_target(MountTargetId=target["MountTargetId"])
            efs.delete_file_system(FileSystemId=fs_id)
        except ClientError:
            pass


def error(excinfo) -> tuple[str, str, int]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_create_file_system_and_its_creation_token(efs, file_system, unique_name):
    created = file_system(PerformanceMode="maxIO", Encrypted=True, Tags=[{"Key": "Name", "Value": "shared"}])
    fs_id = created["FileSystemId"]
    assert re.fullmatch(r"fs-[0-9a-f]{17}", fs_id)
    assert created["FileSystemArn"] == f"arn:aws:elasticfilesystem:us-east-1:000000000000:file-system/{fs_id}"
    assert created["LifeCycleState"] == "creating"
    assert created["PerformanceMode"] == "maxIO" and created["Encrypted"] is True
    assert created["ThroughputMode"] == "bursting"
    assert created["Name"] == "shared" and created["NumberOfMountTargets"] == 0
    assert created["SizeInBytes"]["Value"] > 0

    with pytest.raises(ClientError) as excinfo:
        efs.create_file_system(CreationToken=created["CreationToken"])
    assert error(excinfo) == (
        "FileSystemAlreadyExists",
        f"File system '{fs_id}' already exists with creation token '{created['CreationToken']}'",
        409,
    )
    assert excinfo.value.response["FileSystemId"] == fs_id

    (described,) = efs.describe_file_systems(CreationToken=created["CreationToken"])["FileSystems"]
    assert described["FileSystemId"] == fs_id and described["LifeCycleState"] == "available"
    assert efs.describe_file_systems(CreationToken="no-such-token")["FileSystems"] == []
    with pytest.raises(ClientError) as excinfo:
        efs.describe_file_systems(FileSystemId="fs-0123456789abcdef0")
    assert error(excinfo) == ("FileSystemNotFound", "File system 'fs-0123456789abcdef0' does not exist.", 404)


def test_size_in_bytes_is_the_directory_s_real_size(lamina, efs, file_system):
    fs_id = file_system()["FileSystemId"]
    empty = efs.describe_file_systems(FileSystemId=fs_id)["FileSystems"][0]["SizeInBytes"]["Value"]
    with open(os.path.join(lamina.data_dir, "efs", fs_id, "big"), "wb") as handle:
        handle.write(os.urandom(1 << 20))
    grown = efs.describe_file_systems(FileSystemId=fs_id)["FileSystems"][0]["SizeInBytes"]["Value"]
    assert grown - empty >= 1 << 20


def test_describe_file_systems_pages(efs, file_system):
    ids = {file_system()["FileSystemId"] for _ in range(3)}
    seen, marker, pages = [], None, 0
    while True:
        page = efs.describe_file_systems(MaxItems=1, **({"Marker": marker} if marker else {}))
        assert len(page["FileSystems"]) <= 1
        seen += [fs["FileSystemId"] for fs in page["FileSystems"]]
        pages += 1
        marker = page.get("NextMarker")
        if not marker:
            break
    assert ids <= set(seen) and len(seen) == len(set(seen)) and pages == len(seen)
    paginated = efs.get_paginator("describe_file_systems").paginate(PaginationConfig={"PageSize": 2})
    assert ids <= {fs["FileSystemId"] for page in paginated for fs in page["FileSystems"]}


def test_update_and_delete_file_system(efs, file_system, lamina):
    fs_id = file_system()["FileSystemId"]
    updated = efs.update_file_system(FileSystemId=fs_id, ThroughputMode="provisioned", ProvisionedThroughputInMibps=64)
    assert updated["ThroughputMode"] == "provisioned" and updated["ProvisionedThroughputInMibps"] == 64
    with pytest.raises(ClientError) as excinfo:
        efs.update_file_system(FileSystemId=fs_id, ThroughputMode="elastic", ProvisionedThroughputInMibps=64)
    assert error(excinfo)[0] == "BadRequest"

    target = efs.create_mount_target(FileSystemId=fs_id, SubnetId="subnet-0a1b2c3d4e", IpAddress="10.0.0.5")
    with pytest.raises(ClientError) as excinfo:
        efs.delete_file_system(FileSystemId=fs_id)
    assert error(excinfo) == (
        "FileSystemInUse",
        f"The file system '{fs_id}' cannot be deleted because it has mount targets. "
        "You must delete the mount targets, and then try again.",
        409,
    )
    efs.delete_mount_target(MountTargetId=target["MountTargetId"])
    efs.delete_file_system(FileSystemId=fs_id)
    assert not os.path.exists(os.path.join(lamina.data_dir, "efs", fs_id))
    with pytest.raises(ClientError) as excinfo:
        efs.delete_file_system(FileSystemId=fs_id)
    assert error(excinfo)[0] == "FileSystemNotFound"


def test_mount_targets(efs, file_system):
    fs_id = file_system()["FileSystemId"]
    target = efs.create_mount_target(
        FileSystemId=fs_id,
        SubnetId="subnet-0a1b2c3d4e",
        IpAddress="10.0.0.5",
        SecurityGroups=["sg-0123456789", "sg-0abcdef123"],
    )
    assert re.fullmatch(r"fsmt-[0-9a-f]{17}", target["MountTargetId"])
    assert target["LifeCycleState"] == "available" and target["IpAddress"] == "10.0.0.5"
    assert target["SubnetId"] == "subnet-0a1b2c3d4e" and target["NetworkInterfaceId"].startswith("eni-")
    with pytest.raises(ClientError) as excinfo:
        efs.create_mount_target(FileSystemId=fs_id, SubnetId="subnet-0a1b2c3d4e")
    assert error(excinfo)[0] == "MountTargetConflict"
    other = efs.create_mount_target(FileSystemId=fs_id, SubnetId="subnet-0f9e8d7c6b")
    listed = efs.describe_mount_targets(FileSystemId=fs_id)["MountTargets"]
    assert {t["MountTargetId"] for t in listed} == {target["MountTargetId"], other["MountTargetId"]}
    first = efs.describe_mount_targets(FileSystemId=fs_id, MaxItems=1)
    assert len(first["MountTargets"]) == 1 and first["NextMarker"]
    assert efs.describe_file_systems(FileSystemId=fs_id)["FileSystems"][0]["NumberOfMountTargets"] == 2
    groups = efs.describe_mount_target_security_groups(MountTargetId=target["MountTargetId"])
    assert groups["SecurityGroups"] == ["sg-0123456789", "sg-0abcdef123"]
    with pytest.raises(ClientError) as excinfo:
        efs.describe_mount_targets()
    assert error(excinfo)[0] == "BadRequest"
    efs.delete_mount_target(MountTargetId=other["MountTargetId"])
    with pytest.raises(ClientError) as excinfo:
        efs.describe_mount_targets(MountTargetId=other["MountTargetId"])
    assert error(excinfo)[:2] == ("MountTargetNotFound", f"Mount target '{other['MountTargetId']}' does not exist.")


def test_access_points(efs, file_system):
    fs_id = file_system()["FileSystemId"]
    point = efs.create_access_point(
        FileSystemId=fs_id,
        PosixUser={"Uid": 1000, "Gid": 1000, "SecondaryGids": [2000]},
        RootDirectory={"Path": "/lambda", "CreationInfo": {"OwnerUid": 1000, "OwnerGid": 1000, "Permissions": "750"}},
        Tags=[{"Key": "Name", "Value": "app"}],
    )
    assert re.fullmatch(r"fsap-[0-9a-f]{17}", point["AccessPointId"])
    assert point["AccessPointArn"].endswith(f":access-point/{point['AccessPointId']}")
    assert point["Name"] == "app" and point["FileSystemId"] == fs_id
    assert point["PosixUser"] == {"Uid": 1000, "Gid": 1000, "SecondaryGids": [2000]}
    plain = efs.create_access_point(FileSystemId=fs_id)
    assert plain["RootDirectory"] == {"Path": "/"}
    listed = efs.describe_access_points(FileSystemId=fs_id, MaxResults=1)
    assert len(listed["AccessPoints"]) == 1 and listed["NextToken"]
    rest = efs.describe_access_points(FileSystemId=fs_id, NextToken=listed["NextToken"])["AccessPoints"]
    assert {p["AccessPointId"] for p in listed["AccessPoints"] + rest} == {
        point["AccessPointId"],
        plain["AccessPointId"],
    }
    (one,) = efs.describe_access_points(AccessPointId=point["AccessPointId"])["AccessPoints"]
    assert one["LifeCycleState"] == "available" and one["RootDirectory"]["CreationInfo"]["Permissions"] == "750"

    with pytest.raises(ClientError) as excinfo:
        efs.create_access_point(FileSystemId="fs-0123456789abcdef0")
    assert error(excinfo)[0] == "FileSystemNotFound"
    with pytest.raises(ClientError) as excinfo:
        efs.create_access_point(FileSystemId=fs_id, RootDirectory={"Path": "/a/b/c/d/e"})
    assert error(excinfo)[0] == "ValidationException"
    token = "same-token"
    again = efs.create_access_point(FileSystemId=fs_id, ClientToken=token)
    with pytest.raises(ClientError) as excinfo:
        efs.create_access_point(FileSystemId=fs_id, ClientToken=token)
    assert error(excinfo)[0] == "AccessPointAlreadyExists"
    assert excinfo.value.response["AccessPointId"] == again["AccessPointId"]

    efs.delete_access_point(AccessPointId=plain["AccessPointId"])
    with pytest.raises(ClientError) as excinfo:
        efs.describe_access_points(AccessPointId=plain["AccessPointId"])
    assert error(excinfo)[:2] == ("AccessPointNotFound", f"Access point '{plain['AccessPointId']}' does not exist.")


def test_tags_both_apis(efs, file_system):
    fs_id = file_system(Tags=[{"Key": "a", "Value": "1"}])["FileSystemId"]
    efs.tag_resource(ResourceId=fs_id, Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "one"}])
    assert efs.list_tags_for_resource(ResourceId=fs_id)["Tags"] == [
        {"Key": "a", "Value": "one"},
        {"Key": "b", "Value": "2"},
    ]
    efs.untag_resource(ResourceId=fs_id, TagKeys=["a"])
    efs.create_tags(FileSystemId=fs_id, Tags=[{"Key": "Name", "Value": "legacy"}])
    assert efs.describe_tags(FileSystemId=fs_id)["Tags"] == [
        {"Key": "b", "Value": "2"},
        {"Key": "Name", "Value": "legacy"},
    ]
    page = efs.describe_tags(FileSystemId=fs_id, MaxItems=1)
    assert page["Tags"] == [{"Key": "b", "Value": "2"}] and page["NextMarker"]
    assert efs.describe_file_systems(FileSystemId=fs_id)["FileSystems"][0]["Name"] == "legacy"
    efs.delete_tags(FileSystemId=fs_id, TagKeys=["b"])
    assert efs.describe_tags(FileSystemId=fs_id)["Tags"] == [{"Key": "Name", "Value": "legacy"}]

    point = efs.create_access_point(FileSystemId=fs_id)["AccessPointId"]
    efs.tag_resource(ResourceId=point, Tags=[{"Key": "team", "Value": "x"}])
    assert efs.list_tags_for_resource(ResourceId=point)["Tags"] == [{"Key": "team", "Value": "x"}]
    with pytest.raises(ClientError) as excinfo:
        efs.tag_resource(ResourceId="fsap-0123456789abcdef0", Tags=[{"Key": "k", "Value": "v"}])
    assert error(excinfo)[0] == "AccessPointNotFound"


def test_policies_lifecycle_and_backup(efs, file_system):
    fs_id = file_system()["FileSystemId"]
    with pytest.raises(ClientError) as excinfo:
        efs.describe_file_system_policy(FileSystemId=fs_id)
    assert error(excinfo)[0] == "PolicyNotFound"
    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "elasticfilesystem:ClientMount"}],
        }
    )
    assert efs.put_file_system_policy(FileSystemId=fs_id, Policy=policy)["Policy"] == policy
    assert efs.describe_file_system_policy(FileSystemId=fs_id)["Policy"] == policy
    with pytest.raises(ClientError) as excinfo:
        efs.put_file_system_policy(FileSystemId=fs_id, Policy="{not json")
    assert error(excinfo)[0] == "InvalidPolicyException"
    efs.delete_file_system_policy(FileSystemId=fs_id)
    with pytest.raises(ClientError):
        efs.describe_file_system_policy(FileSystemId=fs_id)

    assert efs.describe_lifecycle_configuration(FileSystemId=fs_id)["LifecyclePolicies"] == []
    rules = [{"TransitionToIA": "AFTER_30_DAYS"}, {"TransitionToPrimaryStorageClass": "AFTER_1_ACCESS"}]
    efs.put_lifecycle_configuration(FileSystemId=fs_id, LifecyclePolicies=rules)
    assert efs.describe_lifecycle_configuration(FileSystemId=fs_id)["LifecyclePolicies"] == rules

    with pytest.raises(ClientError) as excinfo:
        efs.describe_backup_policy(FileSystemId=fs_id)
    assert error(excinfo)[0] == "PolicyNotFound"
    efs.put_backup_policy(FileSystemId=fs_id, BackupPolicy={"Status": "ENABLED"})
    assert efs.describe_backup_policy(FileSystemId=fs_id)["BackupPolicy"] == {"Status": "ENABLED"}
    backed = file_system(Backup=True)["FileSystemId"]
    assert efs.describe_backup_policy(FileSystemId=backed)["BackupPolicy"] == {"Status": "ENABLED"}
