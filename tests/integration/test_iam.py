"""IAM: users, groups, access keys, roles, managed policies and versions, attachments, inline
policies, permissions boundaries, instance profiles, tags, paging, AWS's errors, account
isolation and surviving kill -9, with boto3 and the AWS CLI."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.parse

import boto3
import pytest
from botocore.exceptions import ClientError

AWS = os.path.join(os.path.dirname(sys.executable), "aws")
ACCOUNT = "000000000000"
DOC = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]}
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


@pytest.fixture(scope="module")
def iam(lamina):
    return lamina.client("iam")


@pytest.fixture
def name(unique_name):
    return unique_name.replace("-", "")[-40:]


def error(call, *args, **kwargs) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    response = info.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_users_with_paths_ids_and_errors(iam, name):
    created = iam.create_user(UserName=name, Path="/team/", Tags=[{"Key": "k", "Value": "v"}])["User"]
    assert created["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/team/{name}"
    assert re.fullmatch(r"AIDA[A-Z2-7]{17}", created["UserId"])
    assert created["Path"] == "/team/" and created["Tags"] == [{"Key": "k", "Value": "v"}]
    got = iam.get_user(UserName=name)["User"]
    assert (got["UserId"], got["CreateDate"]) == (created["UserId"], created["CreateDate"])
    assert error(iam.create_user, UserName=name.upper()) == (
        "EntityAlreadyExists",
        f"User with name {name.upper()} already exists.",
        409,
    )
    assert error(iam.get_user, UserName=name + "x") == (
        "NoSuchEntity",
        f"The user with name {name}x cannot be found.",
        404,
    )
    listed = iam.list_users(PathPrefix="/team/")["Users"]
    assert name in [u["UserName"] for u in listed]
    assert name not in [u["UserName"] for u in iam.list_users(PathPrefix="/other/")["Users"]]
    iam.update_user(UserName=name, NewPath="/moved/")
    assert iam.get_user(UserName=name)["User"]["Arn"].endswith(f":user/moved/{name}")
    iam.update_user(UserName=name, NewUserName=name + "2")
    assert error(iam.get_user, UserName=name)[0] == "NoSuchEntity"
    assert iam.get_user(UserName=name + "2")["User"]["UserId"] == created["UserId"]
    iam.delete_user(UserName=name + "2")
    assert error(iam.delete_user, UserName=name + "2")[0] == "NoSuchEntity"


def test_paging_with_marker_and_max_items(iam, name):
    for i in range(5):
        iam.create_user(UserName=f"{name}{i}", Path=f"/paging{name}/")
    seen, marker, pages = [], None, 0
    while True:
        kwargs = {"PathPrefix": f"/paging{name}/", "MaxItems": 2}
        if marker:
            kwargs["Marker"] = marker
        page = iam.list_users(**kwargs)
        pages += 1
        seen += [u["UserName"] for u in page["Users"]]
        if not page["IsTruncated"]:
            assert "Marker" not in page
            break
        marker = page["Marker"]
    assert pages == 3 and seen == [f"{name}{i}" for i in range(5)]
    paginated = iam.get_paginator("list_users").paginate(PathPrefix=f"/paging{name}/", PaginationConfig={"PageSize": 3})
    assert [u["UserName"] for p in paginated for u in p["Users"]] == seen
    for i in range(5):
        iam.delete_user(UserName=f"{name}{i}")


def test_groups_and_membership(iam, name):
    group = iam.create_group(GroupName=name, Path="/g/")["Group"]
    assert re.fullmatch(r"AGPA[A-Z2-7]{17}", group["GroupId"])
    assert group["Arn"] == f"arn:aws:iam::{ACCOUNT}:group/g/{name}"
    assert error(iam.create_group, GroupName=name)[:2] == (
        "EntityAlreadyExists",
        f"Group with name {name} already exists.",
    )
    iam.create_user(UserName=name)
    iam.add_user_to_group(GroupName=name, UserName=name)
    assert [u["UserName"] for u in iam.get_group(GroupName=name)["Users"]] == [name]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=name)["Groups"]] == [name]
    assert error(iam.delete_group, GroupName=name) == (
        "DeleteConflict",
        "Cannot delete entity, must remove users from group first.",
        409,
    )
    assert error(iam.delete_user, UserName=name)[:2] == (
        "DeleteConflict",
        "Cannot delete entity, must remove users from group first.",
    )
    iam.remove_user_from_group(GroupName=name, UserName=name)
    assert iam.get_group(GroupName=name)["Users"] == []
    iam.delete_group(GroupName=name)
    iam.delete_user(UserName=name)
    assert error(iam.get_group, GroupName=name)[:2] == ("NoSuchEntity", f"The group with name {name} cannot be found.")


def test_access_keys(iam, name):
    iam.create_user(UserName=name)
    first = iam.create_access_key(UserName=name)["AccessKey"]
    assert re.fullmatch(r"AKIA[A-Z2-7]{16}", first["AccessKeyId"])
    assert len(first["SecretAccessKey"]) == 40 and first["Status"] == "Active"
    iam.create_access_key(UserName=name)
    assert error(iam.create_access_key, UserName=name) == (
        "LimitExceeded",
        "Cannot exceed quota for AccessKeysPerUser: 2",
        409,
    )
    listed = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
    assert len(listed) == 2 and all("SecretAccessKey" not in k for k in listed)
    iam.update_access_key(UserName=name, AccessKeyId=first["AccessKeyId"], Status="Inactive")
    statuses = {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]}
    assert statuses[first["AccessKeyId"]] == "Inactive"
    assert error(iam.delete_user, UserName=name) == (
        "DeleteConflict",
        "Cannot delete entity, must delete access keys first.",
        409,
    )
    assert error(iam.delete_access_key, UserName=name, AccessKeyId="AKIAAAAAAAAAAAAAAAAA")[:2] == (
        "NoSuchEntity",
        "The Access Key with id AKIAAAAAAAAAAAAAAAAA cannot be found.",
    )
    for key in listed:
        iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    iam.delete_user(UserName=name)


def test_roles_and_trust_policies(lamina, iam, name):
    role = iam.create_role(
        RoleName=name,
        Path="/service-role/",
        AssumeRolePolicyDocument=json.dumps(TRUST),
        Description="d",
        MaxSessionDuration=7200,
        Tags=[{"Key": "team", "Value": "a"}],
    )["Role"]
    assert re.fullmatch(r"AROA[A-Z2-7]{17}", role["RoleId"])
    assert role["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/service-role/{name}"
    assert role["AssumeRolePolicyDocument"] == TRUST  # botocore decodes IAM's URL-encoded JSON
    got = iam.get_role(RoleName=name)["Role"]
    assert (got["MaxSessionDuration"], got["Description"], got["Tags"]) == (7200, "d", [{"Key": "team", "Value": "a"}])
    updated = dict(TRUST, Statement=[dict(TRUST["Statement"][0], Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"})])
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(updated))
    assert iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"] == updated
    iam.update_role(RoleName=name, MaxSessionDuration=43200)
    assert iam.get_role(RoleName=name)["Role"]["MaxSessionDuration"] == 43200
    unchecked = lamina.client("iam", parameter_validation=False)  # what boto3 would refuse itself
    for bad in (3599, 43201):
        code, message, status = error(unchecked.update_role, RoleName=name, MaxSessionDuration=bad)
        # AWS's IAM says ValidationError (the protocol layer's model check answers, in IAM's words).
        assert code == "ValidationError" and status == 400
        assert f"Value '{bad}' at 'maxSessionDuration' failed to satisfy constraint" in message
    assert error(iam.update_assume_role_policy, RoleName=name, PolicyDocument=json.dumps(DOC))[:2] == (
        "MalformedPolicyDocument",
        "Missing required field Principal",
    )
    assert error(iam.create_role, RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))[:2] == (
        "EntityAlreadyExists",
        f"Role with name {name} already exists.",
    )
    assert name in [r["RoleName"] for r in iam.list_roles(PathPrefix="/service-role/")["Roles"]]
    iam.tag_role(RoleName=name, Tags=[{"Key": "env", "Value": "x"}])
    iam.untag_role(RoleName=name, TagKeys=["team"])
    assert iam.list_role_tags(RoleName=name)["Tags"] == [{"Key": "env", "Value": "x"}]
    iam.delete_role(RoleName=name)
    assert error(iam.get_role, RoleName=name) == ("NoSuchEntity", f"The role with name {name} cannot be found.", 404)


def test_managed_policies_and_versions(iam, name):
    policy = iam.create_policy(PolicyName=name, Path="/p/", PolicyDocument=json.dumps(DOC), Description="mine")[
        "Policy"
    ]
    arn = policy["Arn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:policy/p/{name}"
    assert re.fullmatch(r"ANPA[A-Z2-7]{17}", policy["PolicyId"])
    assert (policy["DefaultVersionId"], policy["AttachmentCount"], policy["IsAttachable"]) == ("v1", 0, True)
    assert error(iam.create_policy, PolicyName=name, PolicyDocument=json.dumps(DOC))[:2] == (
        "EntityAlreadyExists",
        f"A policy called {name} already exists. Duplicate names are not allowed.",
    )
    for i in range(2, 6):
        version = iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(DOC), SetAsDefault=i == 3)
        assert version["PolicyVersion"]["VersionId"] == f"v{i}"
    assert error(iam.create_policy_version, PolicyArn=arn, PolicyDocument=json.dumps(DOC)) == (
        "LimitExceeded",
        "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing "
        "version.",
        409,
    )
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v3"
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert [(v["VersionId"], v["IsDefaultVersion"]) for v in versions] == [
        ("v5", False),
        ("v4", False),
        ("v3", True),
        ("v2", False),
        ("v1", False),
    ]
    assert error(iam.delete_policy_version, PolicyArn=arn, VersionId="v3") == (
        "DeleteConflict",
        "Cannot delete the default version of a policy.",
        409,
    )
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v5")
    got = iam.get_policy_version(PolicyArn=arn, VersionId="v5")["PolicyVersion"]
    assert got["Document"] == DOC and got["IsDefaultVersion"] is True
    assert error(iam.get_policy_version, PolicyArn=arn, VersionId="v9")[0] == "NoSuchEntity"
    assert error(iam.delete_policy, PolicyArn=arn)[0] == "DeleteConflict"  # it has versions
    for version_id in ("v1", "v2", "v3", "v4"):
        iam.delete_policy_version(PolicyArn=arn, VersionId=version_id)
    iam.tag_policy(PolicyArn=arn, Tags=[{"Key": "a", "Value": "1"}])
    assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == [{"Key": "a", "Value": "1"}]
    assert name in [p["PolicyName"] for p in iam.list_policies(Scope="Local", PathPrefix="/p/")["Policies"]]
    iam.delete_policy(PolicyArn=arn)
    assert error(iam.get_policy, PolicyArn=arn) == ("NoSuchEntity", f"Policy {arn} was not found.", 404)


def test_the_document_comes_back_url_encoded_as_given(lamina, iam, name):
    """GetPolicyVersion's Document is the text given, URL-encoded (botocore decodes it; a raw
    HTTP call sees what AWS sends)."""
    text = '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}}'
    arn = iam.create_policy(PolicyName=name, PolicyDocument=text)["Policy"]["Arn"]
    raw = iam.meta.events
    captured = {}

    def keep(http_response, **kwargs):
        captured["body"] = http_response.text

    raw.register("after-call.iam.GetPolicyVersion", keep)
    try:
        iam.get_policy_version(PolicyArn=arn, VersionId="v1")
    finally:
        raw.unregister("after-call.iam.GetPolicyVersion", keep)
    document = re.search(r"<Document>(.*)</Document>", captured["body"]).group(1)
    assert document == urllib.parse.quote(text, safe="-_.~") and urllib.parse.unquote(document) == text
    iam.delete_policy(PolicyArn=arn)


def test_malformed_policy_documents(iam, name):
    cases = [
        ("{not json", "This policy contains invalid Json"),
        (json.dumps({"Version": "2012-10-18", "Statement": DOC["Statement"]}), "The policy failed legacy parsing"),
        (json.dumps({"Version": "2012-10-17"}), "Syntax errors in policy."),
        (
            json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]}),
            "Policy statement must contain resources.",
        ),
        (
            json.dumps({"Version": "2012-10-17", "Statement": [dict(DOC["Statement"][0], Principal={"AWS": "*"})]}),
            "Policy document should not specify a principal.",
        ),
    ]
    for document, message in cases:
        assert error(iam.create_policy, PolicyName=name, PolicyDocument=document) == (
            "MalformedPolicyDocument",
            message,
            400,
        ), document
    iam.create_user(UserName=name)
    assert error(iam.put_user_policy, UserName=name, PolicyName="p", PolicyDocument="[]")[0] == (
        "MalformedPolicyDocument"
    )
    iam.delete_user(UserName=name)


def test_a_trust_policy_naming_a_user_or_role_that_does_not_exist_is_refused(iam, name):
    def trusting(arn: str) -> str:
        return json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"AWS": arn}, "Action": "sts:AssumeRole"}],
            }
        )

    nobody = f"arn:aws:iam::{ACCOUNT}:user/{name}-nobody"
    assert error(iam.create_role, RoleName=name, AssumeRolePolicyDocument=trusting(nobody)) == (
        "MalformedPolicyDocument",
        f'Invalid principal in policy: "AWS":"{nobody}"',
        400,
    )
    user = iam.create_user(UserName=f"{name}-somebody", Path="/team/")["User"]
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trusting(user["Arn"]))
    # The same user without its path is not that user.
    unpathed = f"arn:aws:iam::{ACCOUNT}:user/{name}-somebody"
    assert error(iam.update_assume_role_policy, RoleName=name, PolicyDocument=trusting(unpathed))[0] == (
        "MalformedPolicyDocument"
    )
    iam.delete_role(RoleName=name)
    iam.delete_user(UserName=f"{name}-somebody")


def test_attach_detach_and_delete_conflicts(iam, name):
    arn = iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(DOC))["Policy"]["Arn"]
    iam.create_user(UserName=name)
    iam.create_group(GroupName=name)
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.attach_user_policy(UserName=name, PolicyArn=arn)
    iam.attach_user_policy(UserName=name, PolicyArn=arn)  # again: no error, one attachment
    iam.attach_group_policy(GroupName=name, PolicyArn=arn)
    iam.attach_role_policy(RoleName=name, PolicyArn=arn)
    iam.attach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 3
    assert iam.list_attached_user_policies(UserName=name)["AttachedPolicies"] == [
        {"PolicyName": name, "PolicyArn": arn}
    ]
    assert [p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]] == [
        name,
        "AWSLambdaBasicExecutionRole",
    ]
    entities = iam.list_entities_for_policy(PolicyArn=arn)
    assert [u["UserName"] for u in entities["PolicyUsers"]] == [name]
    assert [g["GroupName"] for g in entities["PolicyGroups"]] == [name]
    assert [r["RoleName"] for r in entities["PolicyRoles"]] == [name]
    assert error(iam.delete_policy, PolicyArn=arn) == (
        "DeleteConflict",
        "Cannot delete a policy attached to entities.",
        409,
    )
    assert error(iam.delete_user, UserName=name)[1] == "Cannot delete entity, must detach all policies first."
    assert error(iam.delete_role, RoleName=name)[1] == "Cannot delete entity, must detach all policies first."
    assert error(iam.delete_group, GroupName=name)[1] == "Cannot delete entity, must detach all policies first."
    missing = f"arn:aws:iam::{ACCOUNT}:policy/nothing{name}"
    assert error(iam.attach_user_policy, UserName=name, PolicyArn=missing) == (
        "NoSuchEntity",
        f"Policy {missing} does not exist or is not attachable.",
        404,
    )
    assert error(iam.detach_user_policy, UserName=name, PolicyArn=missing)[:2] == (
        "NoSuchEntity",
        f"Policy {missing} was not found.",
    )
    iam.detach_user_policy(UserName=name, PolicyArn=arn)
    iam.detach_group_policy(GroupName=name, PolicyArn=arn)
    iam.detach_role_policy(RoleName=name, PolicyArn=arn)
    iam.detach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 0
    iam.delete_policy(PolicyArn=arn)
    iam.delete_user(UserName=name)
    iam.delete_group(GroupName=name)
    iam.delete_role(RoleName=name)


def test_inline_policies(iam, name):
    iam.create_user(UserName=name)
    iam.create_group(GroupName=name)
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
    for kind, label in (("user", "UserName"), ("group", "GroupName"), ("role", "RoleName")):
        put = getattr(iam, f"put_{kind}_policy")
        put(**{label: name}, PolicyName="b", PolicyDocument=json.dumps(DOC))
        put(**{label: name}, PolicyName="a", PolicyDocument=json.dumps(DOC))
        assert getattr(iam, f"list_{kind}_policies")(**{label: name})["PolicyNames"] == ["a", "b"]
        got = getattr(iam, f"get_{kind}_policy")(**{label: name}, PolicyName="a")
        assert (got[label], got["PolicyName"], got["PolicyDocument"]) == (name, "a", DOC)
        assert error(getattr(iam, f"get_{kind}_policy"), **{label: name}, PolicyName="zz") == (
            "NoSuchEntity",
            f"The {kind} policy with name zz cannot be found.",
            404,
        )
    assert error(iam.delete_user, UserName=name)[1] == "Cannot delete entity, must delete policies first."
    assert error(iam.delete_role, RoleName=name)[1] == "Cannot delete entity, must delete policies first."
    for kind, label in (("user", "UserName"), ("group", "GroupName"), ("role", "RoleName")):
        for policy_name in ("a", "b"):
            getattr(iam, f"delete_{kind}_policy")(**{label: name}, PolicyName=policy_name)
    iam.delete_user(UserName=name)
    iam.delete_group(GroupName=name)
    iam.delete_role(RoleName=name)


def test_permissions_boundaries(iam, name):
    boundary = "arn:aws:iam::aws:policy/PowerUserAccess"
    user = iam.create_user(UserName=name, PermissionsBoundary=boundary)["User"]
    assert user["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
        "PermissionsBoundaryArn": boundary,
    }
    iam.delete_user_permissions_boundary(UserName=name)
    assert "PermissionsBoundary" not in iam.get_user(UserName=name)["User"]
    iam.put_user_permissions_boundary(UserName=name, PermissionsBoundary=boundary)
    assert iam.get_user(UserName=name)["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.put_role_permissions_boundary(RoleName=name, PermissionsBoundary=boundary)
    assert iam.get_role(RoleName=name)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
    assert iam.get_policy(PolicyArn=boundary)["Policy"]["PermissionsBoundaryUsageCount"] >= 2
    iam.delete_role_permissions_boundary(RoleName=name)
    assert "PermissionsBoundary" not in iam.get_role(RoleName=name)["Role"]
    missing = f"arn:aws:iam::{ACCOUNT}:policy/none{name}"
    assert error(iam.put_role_permissions_boundary, RoleName=name, PermissionsBoundary=missing)[:2] == (
        "NoSuchEntity",
        f"Scope ARN: {missing} does not exist or is not attachable.",
    )
    iam.delete_user_permissions_boundary(UserName=name)
    iam.delete_user(UserName=name)
    iam.delete_role(RoleName=name)


def test_instance_profiles(iam, name):
    profile = iam.create_instance_profile(InstanceProfileName=name, Path="/ip/")["InstanceProfile"]
    assert re.fullmatch(r"AIPA[A-Z2-7]{17}", profile["InstanceProfileId"])
    assert profile["Arn"] == f"arn:aws:iam::{ACCOUNT}:instance-profile/ip/{name}" and profile["Roles"] == []
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
    assert error(iam.add_role_to_instance_profile, InstanceProfileName=name, RoleName=name) == (
        "LimitExceeded",
        "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1",
        409,
    )
    got = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
    assert [r["RoleName"] for r in got["Roles"]] == [name]
    for_role = iam.list_instance_profiles_for_role(RoleName=name)["InstanceProfiles"]
    assert [p["InstanceProfileName"] for p in for_role] == [name]
    assert error(iam.delete_role, RoleName=name)[:2] == (
        "DeleteConflict",
        "Cannot delete entity, must remove roles from instance profile first.",
    )
    iam.tag_instance_profile(InstanceProfileName=name, Tags=[{"Key": "a", "Value": "b"}])
    assert iam.list_instance_profile_tags(InstanceProfileName=name)["Tags"] == [{"Key": "a", "Value": "b"}]
    iam.untag_instance_profile(InstanceProfileName=name, TagKeys=["a"])
    assert iam.list_instance_profile_tags(InstanceProfileName=name)["Tags"] == []
    assert name in [p["InstanceProfileName"] for p in iam.list_instance_profiles(PathPrefix="/ip/")["InstanceProfiles"]]
    iam.remove_role_from_instance_profile(InstanceProfileName=name, RoleName=name)
    iam.delete_instance_profile(InstanceProfileName=name)
    iam.delete_role(RoleName=name)
    assert error(iam.get_instance_profile, InstanceProfileName=name) == (
        "NoSuchEntity",
        f"Instance Profile {name} cannot be found.",
        404,
    )


def test_user_tags(iam, name):
    iam.create_user(UserName=name)
    iam.tag_user(UserName=name, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    iam.tag_user(UserName=name, Tags=[{"Key": "a", "Value": "3"}])
    iam.untag_user(UserName=name, TagKeys=["b"])
    assert iam.list_user_tags(UserName=name)["Tags"] == [{"Key": "a", "Value": "3"}]
    too_many = [{"Key": f"k{i}", "Value": "v"} for i in range(50)]
    assert error(iam.tag_user, UserName=name, Tags=too_many)[0] == "LimitExceeded"
    iam.delete_user(UserName=name)


def test_aws_managed_policies_are_in_every_account(iam):
    admin = iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")["Policy"]
    assert (admin["PolicyName"], admin["Path"], admin["DefaultVersionId"]) == ("AdministratorAccess", "/", "v1")
    document = iam.get_policy_version(PolicyArn=admin["Arn"], VersionId="v1")["PolicyVersion"]["Document"]
    assert document == {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    basic = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    version = iam.get_policy(PolicyArn=basic)["Policy"]["DefaultVersionId"]
    statement = iam.get_policy_version(PolicyArn=basic, VersionId=version)["PolicyVersion"]["Document"]["Statement"]
    assert set(statement[0]["Action"]) == {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}
    names = {
        p["PolicyName"]
        for p in iam.get_paginator("list_policies").paginate(Scope="AWS").build_full_result()["Policies"]
    }
    for wanted in (
        "AdministratorAccess",
        "PowerUserAccess",
        "ReadOnlyAccess",
        "AWSLambdaBasicExecutionRole",
        "AWSLambdaSQSQueueExecutionRole",
        "AWSLambdaKinesisExecutionRole",
        "AWSLambdaDynamoDBExecutionRole",
        "AWSLambdaRole",
        "AmazonSQSFullAccess",
        "AmazonSNSFullAccess",
        "AmazonS3FullAccess",
        "AmazonDynamoDBFullAccess",
        "AWSStepFunctionsFullAccess",
        "CloudWatchLogsFullAccess",
    ):
        assert wanted in names
    service_role = iam.list_policies(Scope="AWS", PathPrefix="/service-role/")["Policies"]
    assert all(p["Path"] == "/service-role/" for p in service_role) and service_role
    assert error(iam.delete_policy, PolicyArn=admin["Arn"])[0] == "AccessDenied"


def test_account_authorization_details(iam, name):
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=json.dumps(DOC))
    iam.attach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    details = iam.get_account_authorization_details(Filter=["User", "AWSManagedPolicy"])
    users = {u["UserName"]: u for u in details["UserDetailList"]}
    assert users[name]["UserPolicyList"] == [{"PolicyName": "inline", "PolicyDocument": DOC}]
    assert users[name]["AttachedManagedPolicies"][0]["PolicyName"] == "ReadOnlyAccess"
    assert "ReadOnlyAccess" in [p["PolicyName"] for p in details["Policies"]]
    iam.detach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    iam.delete_user_policy(UserName=name, PolicyName="inline")
    iam.delete_user(UserName=name)


def test_accounts_are_isolated(lamina_factory):
    server = lamina_factory(LAMINA_CREDENTIALS="test:test:000000000000,alice:alice-secret:111111111111")
    mine = server.client("iam")
    theirs = boto3.client(
        "iam",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="alice",
        aws_secret_access_key="alice-secret",
    )
    mine.create_user(UserName="shared")
    arn = mine.create_policy(PolicyName="p", PolicyDocument=json.dumps(DOC))["Policy"]["Arn"]
    assert error(theirs.get_user, UserName="shared")[0] == "NoSuchEntity"
    assert theirs.list_users()["Users"] == []
    assert error(theirs.get_policy, PolicyArn=arn)[0] == "NoSuchEntity"
    theirs.create_user(UserName="shared")  # the same name in another account
    assert theirs.get_user(UserName="shared")["User"]["Arn"] == "arn:aws:iam::111111111111:user/shared"
    assert theirs.get_policy(PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")["Policy"]["AttachmentCount"] == 0
    # IAM is global: a client of another region sees the same users
    west = boto3.client(
        "iam", endpoint_url=server.url, region_name="eu-west-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    assert [u["UserName"] for u in west.list_users()["Users"]] == ["shared"]


def test_everything_survives_kill_9(lamina_factory):
    server = lamina_factory()
    iam = server.client("iam")
    user = iam.create_user(UserName="u", Path="/p/", Tags=[{"Key": "a", "Value": "b"}])["User"]
    key = iam.create_access_key(UserName="u")["AccessKey"]
    iam.create_group(GroupName="g")
    iam.add_user_to_group(GroupName="g", UserName="u")
    arn = iam.create_policy(PolicyName="p", PolicyDocument=json.dumps(DOC))["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(DOC), SetAsDefault=True)
    iam.attach_group_policy(GroupName="g", PolicyArn=arn)
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST), MaxSessionDuration=7200)
    iam.put_role_policy(RoleName="r", PolicyName="i", PolicyDocument=json.dumps(DOC))
    iam.create_instance_profile(InstanceProfileName="ip")
    iam.add_role_to_instance_profile(InstanceProfileName="ip", RoleName="r")

    server.restart(kill=True)
    iam = server.client("iam")
    assert iam.get_user(UserName="u")["User"]["UserId"] == user["UserId"]
    assert iam.list_access_keys(UserName="u")["AccessKeyMetadata"][0]["AccessKeyId"] == key["AccessKeyId"]
    assert [u["UserName"] for u in iam.get_group(GroupName="g")["Users"]] == ["u"]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1
    assert iam.get_role(RoleName="r")["Role"]["MaxSessionDuration"] == 7200
    assert iam.get_role_policy(RoleName="r", PolicyName="i")["PolicyDocument"] == DOC
    assert [r["RoleName"] for r in iam.get_instance_profile(InstanceProfileName="ip")["InstanceProfile"]["Roles"]] == [
        "r"
    ]


def test_the_aws_cli(lamina, tmp_path, name):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        HOME=str(tmp_path),
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(tmp_path / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"),
        AWS_PAGER="",
    )

    def aws(*args: str) -> dict:
        done = subprocess.run(
            [AWS, "--endpoint-url", lamina.url, "--output", "json", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else {}

    created = aws("iam", "create-role", "--role-name", name, "--assume-role-policy-document", json.dumps(TRUST))
    assert created["Role"]["AssumeRolePolicyDocument"] == TRUST
    aws(
        "iam",
        "attach-role-policy",
        "--role-name",
        name,
        "--policy-arn",
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    )
    attached = aws("iam", "list-attached-role-policies", "--role-name", name)["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["AWSLambdaBasicExecutionRole"]
    aws(
        "iam",
        "detach-role-policy",
        "--role-name",
        name,
        "--policy-arn",
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    )
    aws("iam", "delete-role", "--role-name", name)


def test_what_sts_and_lambda_ask_of_it(tmp_path):
    """The composition root's view: access_key, role and identity_policies, in process."""
    import asyncio

    from lamina.identity.principals import Principal
    from lamina.services.context import RequestContext
    from lamina.services.iam import IamService, Role
    from lamina.store.sqlite import SQLiteStore

    async def scenario() -> None:
        store = SQLiteStore(str(tmp_path / "iam.db"))
        service = IamService(store)
        await service.start()
        ctx = RequestContext(ACCOUNT, "us-east-1", "r", "http://x")
        await service.create_user({"UserName": "alice", "Path": "/dev/", "Tags": [{"Key": "team", "Value": "a"}]}, ctx)
        key = (await service.create_access_key({"UserName": "alice"}, ctx))["AccessKey"]
        secret, principal = service.access_key(key["AccessKeyId"])
        assert secret == key["SecretAccessKey"]
        assert (principal.arn, principal.kind, principal.name) == (
            f"arn:aws:iam::{ACCOUNT}:user/dev/alice",
            "user",
            "alice",
        )
        assert principal.tags == (("team", "a"),) and principal.user_id.startswith("AIDA")
        await service.update_access_key(
            {"UserName": "alice", "AccessKeyId": key["AccessKeyId"], "Status": "Inactive"}, ctx
        )
        assert service.access_key(key["AccessKeyId"]) is None and service.access_key("AKIANOPE") is None

        inline = json.dumps(DOC)
        managed = json.dumps(
            {"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}}
        )
        arn = (await service.create_policy({"PolicyName": "m", "PolicyDocument": managed}, ctx))["Policy"]["Arn"]
        await service.create_group({"GroupName": "devs"}, ctx)
        await service.add_user_to_group({"GroupName": "devs", "UserName": "alice"}, ctx)
        await service.attach_group_policy({"GroupName": "devs", "PolicyArn": arn}, ctx)
        await service.put_user_policy({"UserName": "alice", "PolicyName": "i", "PolicyDocument": inline}, ctx)
        boundary = "arn:aws:iam::aws:policy/AdministratorAccess"
        await service.put_user_permissions_boundary({"UserName": "alice", "PermissionsBoundary": boundary}, ctx)
        documents, boundary_doc = service.identity_policies(principal)
        user_policies = service.identity_policies(principal)
        assert sorted(documents) == sorted([inline, managed])
        assert json.loads(boundary_doc)["Statement"] == [{"Effect": "Allow", "Action": "*", "Resource": "*"}]

        await service.create_role(
            {"RoleName": "fn", "Path": "/service-role/", "AssumeRolePolicyDocument": json.dumps(TRUST)}, ctx
        )
        basic = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
        await service.attach_role_policy({"RoleName": "fn", "PolicyArn": basic}, ctx)
        role = service.role(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:role/service-role/fn")
        assert isinstance(role, Role) and role == service.role(ACCOUNT, "fn")
        assert (role.name, role.path, role.max_session_duration, role.permissions_boundary) == (
            "fn",
            "/service-role/",
            3600,
            None,
        )
        assert json.loads(role.trust_policy) == TRUST and role.role_id.startswith("AROA")
        assert service.role(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:role/fn") is None  # wrong path
        assert service.role("111111111111", "fn") is None
        session = Principal(
            ACCOUNT,
            f"arn:aws:sts::{ACCOUNT}:assumed-role/fn/s",
            f"{role.role_id}:s",
            "assumed-role",
            name="s",
            role_arn=role.arn,
        )
        documents, boundary_doc = service.identity_policies(session)
        assert [json.loads(d)["Statement"][0]["Action"][0] for d in documents] == ["logs:CreateLogGroup"]
        assert boundary_doc is None
        await store.close()

        store = SQLiteStore(str(tmp_path / "iam.db"))  # rebuilt from the store
        again = IamService(store)
        await again.start()
        assert again.role(ACCOUNT, "fn") == role
        assert again.identity_policies(principal) == user_policies
        assert again.access_key(key["AccessKeyId"]) is None  # still inactive
        await store.close()

    asyncio.run(scenario())
