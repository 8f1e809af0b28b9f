"""Amazon S3, served over rest-xml: buckets and objects, durable on disk and in the store.

    names.py       bucket name rules, the key length limit
    state.py       the owner: buckets, each with its index of keys and versions; documents
    storage.py     the object files: received to a temporary file, fsynced, renamed; read in pieces
    writes.py      the one path by which a key's versions change, and telling listeners
    versions.py    version ids, what a write replaces, finding the version a request names
    buckets.py     Create/Head/Delete/ListBuckets, GetBucketLocation, versioning
    controls.py    ownership controls, public access block, default encryption
    objects.py     PutObject, GetObject, HeadObject, GetObjectAttributes
    deletes.py     DeleteObject, DeleteObjects
    copying.py     CopyObject
    listing.py     ListObjects, ListObjectsV2, ListObjectVersions
    tagging.py     bucket and object tags
    acl.py         ACLs (canned, grants), Get/Put Bucket/Object Acl
    conditions.py  If-Match & co. for reads, copies and writes
    ranges.py      the Range header
    checksums.py   CRC32/CRC32C/CRC64NVME/SHA1/SHA256 and Content-MD5
    events.py      ObjectEvent, what `S3Service.events` is told after each committed change
    errors.py      S3's error codes and messages
    multipart.py   multipart uploads (uploads.py the book, parts.py the part files, completion.py,
                   upload_listing.py, composite.py the ETag, checksums and parts of the object)
    post_uploads.py  POST Object, a browser's form upload (protocol/s3_post.py reads the form)
    notifications.py          Put/GetBucketNotificationConfiguration (and the legacy pair), checks
    notification_events.py    the records, EventBridge details and s3:TestEvent notifications carry
    notification_delivery.py  the events hook's deliveries, durable through the outbox
    configs.py     a bucket's policy, CORS, lifecycle and website configurations (one document each)
    policies.py    Put/Get/DeleteBucketPolicy, GetBucketPolicyStatus, what the authorizer reads
                   (access/s3.py); policy_rules.py S3's checks of a policy, and "public"
    cors.py        Put/Get/DeleteBucketCors, the OPTIONS preflight, CORS headers of actual requests
    lifecycle.py   Put/Get/DeleteBucketLifecycleConfiguration, rules, when a version expires;
                   lifecycle_sweep.py the expiring, on the engine's timers
    website.py     Put/Get/DeleteBucketWebsite, what the website endpoint answers (http/s3_website.py)
    finishing.py   the gateway's finisher: CORS headers, x-amz-expiration

Not yet: object lock.
"""

from __future__ import annotations

from ...store.base import Store
from .acl import AclApi
from .buckets import BucketsApi
from .configs import BucketConfigs
from .controls import ControlsApi
from .copying import CopyingApi
from .cors import CorsApi
from .deletes import DeletesApi
from .events import Listener
from .finishing import FinishingApi
from .lifecycle import LifecycleApi
from .lifecycle_sweep import LifecycleSweep
from .listing import ListingApi
from .multipart import MultipartApi
from .notification_delivery import Notifications
from .notifications import NotificationsApi
from .objects import ObjectsApi
from .policies import PoliciesApi
from .post_uploads import PostUploadsApi
from .state import S3State
from .storage import Files
from .tagging import TaggingApi
from .website import WebsiteApi


class S3Service(
    BucketsApi,
    ControlsApi,
    ObjectsApi,
    DeletesApi,
    CopyingApi,
    ListingApi,
    TaggingApi,
    AclApi,
    NotificationsApi,
    MultipartApi,
    PoliciesApi,
    CorsApi,
    LifecycleApi,
    WebsiteApi,
    FinishingApi,
    PostUploadsApi,
):
    service_name = "s3"

    def __init__(self, store: Store, root: str) -> None:
        """`root`: the S3 directory of the data dir (object files)."""
        self.store = store
        self.files = Files(root)
        self.state = S3State(store, self.files)
        self._creating: set[str] = set()
        self.configs = BucketConfigs(store)  # policy, CORS, lifecycle, website
        self.lifecycle = LifecycleSweep(self, self.configs, self.state)  # its timer: the composition root's
        # Told of each committed object change (events.py); set by the composition root.
        self.events: Listener | None = None
        self.notifications = Notifications(store, self.state)  # wired by the composition root

    async def start(self) -> None:
        await self.state.load()
        await self.configs.load(self.state)
        self.lifecycle.start()
        await self.notifications.start()

    async def stop(self) -> None:
        self.lifecycle.stop()
        await self.notifications.stop()

    async def reset(self) -> None:
        self.state.reset()
        self.configs.reset()
        self.notifications.reset()
        self._creating.clear()
