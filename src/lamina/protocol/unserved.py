"""Requests for an AWS service Lamina does not serve: which service it is, and its 501.

A client pointed at Lamina may call any of the services botocore knows (S3, DynamoDB,
EC2...). The router only knows the served ones, so a request it cannot route is looked up
here, in botocore's whole catalogue, by what the request carries:

1. the SigV4 credential scope's service (the Authorization header, or X-Amz-Credential
   in the query string of a presigned URL): the model's signingName, else its
   endpointPrefix; where several services sign with one name (s3 and s3control, ses and
   sesv2), the target prefix or service id below picks one, else the service named like
   the scope;
2. X-Amz-Target's prefix (`DynamoDB_20120810.ListTables`): the model's targetPrefix;
3. a smithy-rpc-v2-cbor path (`/service/<ServiceId>/operation/<Operation>`);
4. a Host of the form `<endpointPrefix>[.<region>].localhost` (or `...amazonaws.com`).

The service is answered in the protocol its client reads (the one the request speaks where
the model offers several): HTTP 501 and the code NotImplemented, with a message naming the
service. botocore retries neither (501 is not among its transient statuses), so every SDK
and the AWS CLI print "NotImplemented ... Lamina does not implement the Amazon DynamoDB
API (dynamodb) yet" instead of failing to parse an answer in the wrong protocol.

The catalogue is built once, on the first request that needs it, from the models' metadata
only (about two seconds for some 450 models, so the gateway builds it off the event loop);
nothing here runs for a request the router resolves.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import botocore.loaders
import botocore.session
from botocore.model import ServiceModel

from ..errors import ServiceError
from .messages import Request
from .router import Router, ServiceSpec

NOT_IMPLEMENTED = "NotImplemented"
_RPC = ("json", "smithy-rpc-v2-cbor")
_HOST_SUFFIXES = (".localhost", ".amazonaws.com", ".amazonaws.com.cn", ".api.aws")


@dataclass(frozen=True)
class Identified:
    """An unserved service a request is for, and the protocol to answer it in."""

    spec: ServiceSpec  # its metadata only: no operations, no shapes
    protocol: str

    @property
    def name(self) -> str:
        return self.spec.name

    def error(self) -> ServiceError:
        meta = self.spec.model.metadata
        full_name = meta.get("serviceFullName") or meta.get("serviceId") or self.name
        return ServiceError(
            NOT_IMPLEMENTED,
            f"Lamina does not implement the {full_name} API ({self.name}) yet",
            501,
            sender_fault=False,
        )


class Catalog:
    """botocore's services by the names a request may carry, built on first use."""

    def __init__(self, served: Iterable[str]) -> None:
        self.served = frozenset(served)
        self._lock = threading.Lock()
        self._metadata: dict[str, dict[str, Any]] | None = None
        self._by_signing: dict[str, list[str]] = {}
        self._by_target: dict[str, str] = {}
        self._by_service_id: dict[str, str] = {}
        self._by_endpoint: dict[str, str] = {}
        self._uri_starts: dict[str, frozenset[str]] = {}  # rest services: request URIs up to the first label

    # --- the index ----------------------------------------------------------------------

    def metadata(self) -> dict[str, dict[str, Any]]:
        """Every service's model metadata by botocore name (loaded once, thread-safe)."""
        if self._metadata is None:
            with self._lock:
                if self._metadata is None:
                    self._index(*_load_metadata())
        assert self._metadata is not None
        return self._metadata

    def _index(self, metadata: dict[str, dict[str, Any]], uri_starts: dict[str, frozenset[str]]) -> None:
        self._uri_starts = uri_starts
        for name in sorted(metadata):
            meta = metadata[name]
            endpoint = meta.get("endpointPrefix") or name
            self._by_signing.setdefault(meta.get("signingName") or endpoint, []).append(name)
            if meta.get("targetPrefix"):
                self._by_target.setdefault(meta["targetPrefix"], name)
            if meta.get("serviceId"):
                self._by_service_id.setdefault(meta["serviceId"].replace(" ", ""), name)
            self._by_endpoint.setdefault(endpoint, name)
        self._metadata = metadata

    # --- identifying a request ----------------------------------------------------------

    def identify(self, request: Request) -> Identified | None:
        """The unserved service `request` is for, or None (a served one, or none at all)."""
        name = self.service_of(request)
        if name is None or name in self.served:
            return None
        meta = self.metadata()[name]
        return Identified(_spec(name, meta), _protocol(meta, request))

    def service_of(self, request: Request) -> str | None:
        """botocore's name of the service `request` is for, served or not."""
        metadata = self.metadata()
        target = request.headers.get("x-amz-target", "").rpartition(".")[0] or None
        service_id = _cbor_service_id(request)

        def fits(name: str) -> bool:
            meta = metadata[name]
            if target is not None:
                return meta.get("targetPrefix") == target
            if service_id is not None:
                return service_id in (meta.get("serviceId", "").replace(" ", ""), meta.get("targetPrefix"))
            # Neither marker: not a service that only speaks JSON-RPC or CBOR-RPC.
            return any(p not in _RPC for p in meta.get("protocols") or [meta["protocol"]])

        signed_as = Router.signing_service(request)
        if signed_as:
            signing_alike = self._by_signing.get(signed_as, [])
            candidates = [name for name in signing_alike if fits(name)] or signing_alike
            query = len(candidates) > 1 and _has_action(request)
            if len(candidates) > 1:
                # ses (query) and sesv2 (rest-json) sign alike: an Action says which...
                alike = [name for name in candidates if (metadata[name]["protocol"] in ("query", "ec2")) == query]
                candidates = alike or candidates
            if len(candidates) > 1 and not query:
                # ... and sesv2 (/v2/email/...) and pinpoint-email (/v1/email/...) their paths.
                fit = {name: self._path_fit(name, request.path) for name in candidates}
                best = max(fit.values())
                candidates = [name for name in candidates if fit[name] == best]
            if candidates:
                return signed_as if signed_as in candidates else candidates[0]
        if target is not None:
            return self._by_target.get(target)
        if service_id is not None:
            return self._by_service_id.get(service_id) or self._by_target.get(service_id)
        return self._by_host(request.headers.get("host", ""))

    def _path_fit(self, name: str, path: str) -> int:
        """How long a literal start of one of the service's request URIs `path` begins with."""
        return max((len(start) for start in self._uri_starts.get(name, ()) if path.startswith(start)), default=-1)

    def _by_host(self, host: str) -> str | None:
        host = host.rsplit(":", 1)[0].lower() if not host.startswith("[") else ""
        for suffix in _HOST_SUFFIXES:
            if host.endswith(suffix):
                labels = host[: -len(suffix)].split(".")
                # Endpoint prefixes may have a dot themselves (api.ecr, runtime.sagemaker).
                for count in (2, 1):
                    name = self._by_endpoint.get(".".join(labels[:count])) if len(labels) >= count else None
                    if name is not None:
                        return name
                return None
        return None


def _cbor_service_id(request: Request) -> str | None:
    if request.path.startswith("/service/") and "/operation/" in request.path:
        service_id = request.path[len("/service/") :].partition("/operation/")[0]
        return service_id.rsplit(".", 1)[-1] or None
    return None


def _has_action(request: Request) -> bool:
    if any(key == "Action" for key, _ in request.query):
        return True
    return b"Action=" in request.body and "x-www-form-urlencoded" in request.headers.get("content-type", "")


def _protocol(meta: dict[str, Any], request: Request) -> str:
    """The protocol the request speaks, where the service offers several; else the model's."""
    protocols = meta.get("protocols") or [meta["protocol"]]
    if _cbor_service_id(request) is not None and "smithy-rpc-v2-cbor" in protocols:
        return "smithy-rpc-v2-cbor"
    if "x-amz-target" in request.headers and "json" in protocols:
        return "json"
    if meta["protocol"] in ("json", "smithy-rpc-v2-cbor") and "json" in protocols:
        return "json"  # neither marker: a hand-made request; JSON is the readable choice
    return str(meta["protocol"])


def _spec(name: str, meta: dict[str, Any]) -> ServiceSpec:
    model = ServiceModel({"metadata": meta, "operations": {}, "shapes": {}}, name)
    return ServiceSpec(
        name=name,
        model=model,
        protocol=meta["protocol"],
        signing_name=meta.get("signingName") or meta.get("endpointPrefix") or name,
        target_prefix=meta.get("targetPrefix"),
    )


def _load_metadata() -> tuple[dict[str, dict[str, Any]], dict[str, frozenset[str]]]:
    """The metadata of every service model botocore has, and the literal starts of each rest
    service's request URIs, read without keeping the models.

    A Loader caches every model it loads (hundreds of MB for all of them); the files are
    read with a plain JSONFileLoader instead and only their metadata kept.
    """
    loader = botocore.session.get_session().get_component("data_loader")
    files = botocore.loaders.JSONFileLoader()
    metadata: dict[str, dict[str, Any]] = {}
    uri_starts: dict[str, frozenset[str]] = {}
    for name in loader.list_available_services("service-2"):
        try:
            version = loader.determine_latest_version(name, "service-2")
        except Exception:
            continue
        for root in loader.search_paths:
            path = os.path.join(root, name, version, "service-2")
            if files.exists(path):
                document = files.load_file(path)
                if document and "metadata" in document:
                    metadata[name] = dict(document["metadata"])
                    if str(document["metadata"].get("protocol", "")).startswith("rest"):
                        uri_starts[name] = frozenset(
                            op.get("http", {}).get("requestUri", "/").split("{")[0].split("?")[0]
                            for op in document.get("operations", {}).values()
                        )
                break
    return metadata, uri_starts
