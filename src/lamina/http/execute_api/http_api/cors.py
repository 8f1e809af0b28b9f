"""CORS, when the API has a CorsConfiguration: API Gateway answers preflight requests itself
(an OPTIONS with Origin and Access-Control-Request-Method, whatever the routes: 204 with the
configured access-control-allow-* headers for an allowed origin, none for another), and adds
access-control-allow-origin, -allow-credentials and -expose-headers to the response of a
request with an allowed Origin, the integration's own access-control-* headers dropped
("API Gateway ignores CORS headers returned from your backend integration").
"""

from __future__ import annotations

from typing import Any

from ....protocol.messages import Request, Response


class Cors:
    __slots__ = ("any_origin", "credentials", "expose", "headers", "max_age", "methods", "origins")

    def __init__(self, config: dict[str, Any]) -> None:
        origins = [o.rstrip("/").lower() for o in config.get("AllowOrigins") or []]
        self.any_origin = "*" in origins
        self.origins = frozenset(origins)
        self.credentials = bool(config.get("AllowCredentials"))
        self.methods = [m.upper() for m in config.get("AllowMethods") or []]
        self.headers = [h.lower() for h in config.get("AllowHeaders") or []]
        self.expose = ",".join(h.lower() for h in config.get("ExposeHeaders") or [])
        self.max_age = config.get("MaxAge")

    def allowed(self, origin: str) -> str | None:
        """The access-control-allow-origin value for this Origin, or None."""
        if self.any_origin:
            return origin if self.credentials else "*"
        return origin if origin.rstrip("/").lower() in self.origins else None

    @staticmethod
    def is_preflight(request: Request) -> bool:
        return (
            request.method == "OPTIONS"
            and "origin" in request.headers
            and "access-control-request-method" in request.headers
        )

    def preflight(self, request: Request) -> Response:
        headers: list[tuple[str, str]] = []
        allowed = self.allowed(request.headers["origin"])
        if allowed is not None:
            headers.append(("access-control-allow-origin", allowed))
            asked = request.headers["access-control-request-method"].upper()
            if "*" in self.methods:
                headers.append(("access-control-allow-methods", asked))
            elif self.methods:
                headers.append(("access-control-allow-methods", ",".join(self.methods)))
            if "*" in self.headers:
                wanted = request.headers.get("access-control-request-headers")
                if wanted:
                    headers.append(("access-control-allow-headers", wanted.lower()))
            elif self.headers:
                headers.append(("access-control-allow-headers", ",".join(self.headers)))
            if self.credentials:
                headers.append(("access-control-allow-credentials", "true"))
            if self.max_age is not None:
                headers.append(("access-control-max-age", str(self.max_age)))
        return Response(204, headers, b"")

    def decorate(self, request: Request, response: Response) -> None:
        origin = request.headers.get("origin")
        kept = [(k, v) for k, v in response.headers if not k.lower().startswith("access-control-")]
        if origin is not None:
            allowed = self.allowed(origin)
            if allowed is not None:
                kept.append(("access-control-allow-origin", allowed))
                if self.credentials:
                    kept.append(("access-control-allow-credentials", "true"))
                if self.expose:
                    kept.append(("access-control-expose-headers", self.expose))
        response.headers = kept
