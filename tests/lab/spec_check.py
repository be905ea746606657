"""Validate emulator responses against the Confluent Cloud Kafka REST v3 spec.

``SpecChecker.load()`` reads /work/shared/reference/openapi/... (or
``$LAB_OPENAPI_SPEC``) once (~1 s); ``check(method, path, status, body,
query)`` maps a lab request (``/v3/...`` or ``/kafka/v3/...``) onto the
spec's server URL and validates the response with openapi-core, raising
``AssertionError`` with the validation errors.

Two adjustments to the published spec, both documented in docs/lab.md:

* ``ListLinkConfigsResponseData.value`` is made nullable: Confluent Cloud
  returns ``null`` for sensitive configs (and unset ones such as
  ``cluster.link.prefix``), which the spec does not allow.
* ``GET /kafka/v3/clusters`` (not in the Cloud spec) is added with the
  ``ClusterDataList`` response of the Confluent Platform spec.

Statuses the spec does not list for an operation (404 for a missing link or
mirror, 405) are checked against the ``Error`` schema only.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from urllib.parse import urlencode

import yaml
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS30Validator

SPEC_DIR = Path(os.environ.get("LAB_OPENAPI_DIR", "/work/shared/reference/openapi"))
CLOUD_SPEC = Path(os.environ.get("LAB_OPENAPI_SPEC", SPEC_DIR / "confluent-cloud-kafka-rest-v3.yaml"))
SERVER = "https://pkc-00000.region.provider.confluent.cloud"


class SpecChecker:
    def __init__(self, spec: dict):
        self.spec = spec
        self.openapi = OpenAPI.from_dict(spec)
        self.validated = 0

    @classmethod
    def load(cls, path: Path = CLOUD_SPEC) -> "SpecChecker":
        with open(path) as fh:
            spec = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        spec = copy.deepcopy(spec)
        schemas = spec["components"]["schemas"]
        schemas["ListLinkConfigsResponseData_allOf"]["properties"]["value"]["nullable"] = True
        if "/kafka/v3/clusters" not in spec["paths"]:
            schemas.setdefault("ClusterDataList", {"allOf": [
                {"$ref": "#/components/schemas/ResourceCollection"},
                {"type": "object", "required": ["data"], "properties": {
                    "data": {"type": "array", "items": {"$ref": "#/components/schemas/ClusterData"}}}},
            ]})
            spec["paths"]["/kafka/v3/clusters"] = {"get": {
                "operationId": "listKafkaClusters",
                "responses": {
                    "200": {"description": "clusters", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/ClusterDataList"}}}},
                    "401": {"description": "auth", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Error"}}}},
                }}}
        return cls(spec)

    def _operation(self, path: str, method: str):
        """The spec operation matching a concrete /kafka/v3 path, or None."""
        parts = path.strip("/").split("/")
        best = None
        for tmpl, ops in self.spec["paths"].items():
            tparts = tmpl.strip("/").split("/")
            if len(tparts) != len(parts):
                continue
            score = 0
            for t, p in zip(tparts, parts):
                if t == p:
                    score += 2
                elif t.startswith("{") and t.endswith("}"):
                    score += 0
                elif "{" in t:  # e.g. "mirrors:promote" has none; "{link_name}" handled above
                    break
                else:
                    break
            else:
                if method.lower() in ops and (best is None or score > best[0]):
                    best = (score, ops[method.lower()])
        return best[1] if best else None

    def check(self, method: str, path: str, status: int, body, query: dict | None = None) -> None:
        if path.startswith("/v3/"):
            path = "/kafka" + path
        op = self._operation(path, method)
        assert op is not None, f"{method} {path} is not an operation of the spec"
        responses = op["responses"]
        documented = str(status) in responses or f"{str(status)[0]}XX" in responses
        if not documented:
            err_schema = self.spec["components"]["schemas"]["Error"]
            errors = list(OAS30Validator(err_schema).iter_errors(body))
            assert not errors, f"{method} {path} -> {status}: not an Error body: {errors[0].message}"
            self.validated += 1
            return
        args = {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in (query or {}).items()}
        full = path + ("?" + urlencode(args) if args else "")
        request = MockRequest(SERVER, method.lower(), path, args=args)
        if isinstance(body, str):  # non-JSON body, e.g. the 429 HTML page
            data, ctype = body.encode(), "text/html"
        else:
            data = b"" if body is None else json.dumps(body).encode()
            ctype = "application/json" if body is not None else None
        response = MockResponse(data, status_code=status, content_type=ctype)
        try:
            self.openapi.validate_response(request, response)
        except Exception as exc:  # openapi-core raises nested validation errors
            detail = getattr(exc, "schema_errors", None) or getattr(exc, "__cause__", None) or exc
            if hasattr(exc, "__cause__") and getattr(exc.__cause__, "schema_errors", None):
                detail = [e.message for e in exc.__cause__.schema_errors]
            raise AssertionError(f"{method} {full} -> {status} does not match the spec: "
                                 f"{type(exc).__name__}: {exc}; {detail}") from None
        self.validated += 1
