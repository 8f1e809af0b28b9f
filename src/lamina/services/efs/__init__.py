"""Amazon EFS: file systems, access points, mount targets, served over rest-json, and the
files functions mount from them (FileSystemConfigs).

    state.py          the owner: books per account and region, store layout, AWS's errors;
                      each file system's files in <data dir>/efs/<fs-id>/
    file_systems.py   Create/Describe/Update/DeleteFileSystem
    access_points.py  Create/Describe/DeleteAccessPoint
    mount_targets.py  Create/Describe/DeleteMountTarget and their security groups (records:
                      Lamina has no VPC)
    tags.py           TagResource & co, and the first API's CreateTags/DescribeTags/DeleteTags
    policies.py       file system policy, lifecycle configuration, backup policy
    disk.py           the directories: size, access points' root directories
    mounting.py       an access point ARN -> the engine's FileSystemMount, for Lambda
"""

from __future__ import annotations

import os

from ...store.base import Store
from ..base import StateService
from .access_points import AccessPointsApi
from .file_systems import FileSystemsApi
from .mount_targets import MountTargetsApi
from .mounting import Mounting
from .policies import PoliciesApi
from .state import EfsState
from .tags import TagsApi


class EfsService(FileSystemsApi, AccessPointsApi, MountTargetsApi, TagsApi, PoliciesApi, StateService):
    service_name = "efs"

    def __init__(self, store: Store, data_dir: str) -> None:
        self.state = EfsState(store, os.path.join(data_dir, "efs"))
        self.mounting = Mounting(self.state)
