"""Contract checks: every Kafka REST v3 request and response the emulator
handles is validated against the published OpenAPI specs.

Off unless ``LAB_CONTRACT_LOG=<path>`` is set in the emulator's environment
(tests/conftest.py sets it for every pytest session). Then the emulator's
HTTP handler calls ``observe(handler, req, status, body)`` of
emulator/contract_hook.py once per request, before the response is sent, and
for each ``/kafka/v3/...`` or ``/v3/...`` request the checks of this module

* finds the operation: the Confluent Cloud spec first, the Confluent Platform
  spec for operations only it has (``mirrors:promote-local-and-*``,
  ``GET /clusters``);
* validates the request (path and query parameters, undeclared query
  parameters, security, body) and the response (status, content type, body
  schema; a status the operation does not list must carry an ``Error`` body);
* appends one JSON line per violation to the log (``method``, ``path``,
  ``query``, ``status``, ``side`` request|response, ``errors``, ``operation``,
  ``spec``, ``client`` (User-Agent), ``lab`` (the emulator's working
  directory), ``port``, ``pid``, ``ts``);
* counts what it validated in ``<log>.counts.<pid>`` (JSON, rewritten after
  every checked request), with the CPU time the checks (and the spec load)
  used in that process (``check_cpu_seconds``).

Which request problems are violations: every one when the request was
accepted (2xx: the emulator served something the contract forbids) or came
from the collection's client (User-Agent ``ansible-httpget``); a spec-invalid
request from test code that the emulator rejected with 4xx is a deliberate
negative test and is only counted (``rejected_invalid``).

Lab-only paths (``/lab/v1/...``) and anything else outside ``/v3`` are not
checked. Secrets never reach the log: values of sensitive link configs (and
of any key that looks like a password/secret/token/JAAS entry) are replaced by
placeholders of the same type before validation, and the Authorization header
is only passed on as present or absent.

The specs are loaded once per process, lazily (first checked request),
without openapi-spec-validator's full spec validation (test_lab_contract.py
validates the adjusted specs once instead); the adjusted spec dicts are cached
as JSON (``$LAB_CONTRACT_SPEC_CACHE``, default ``<log>.specs.json``; keyed by
the spec files and this module) so later processes skip the YAML parsing.

Adjustments to the published specs (each one a place where the spec and real
servers disagree; listed in docs/lab.md, "Contract checks"):

1. ``ListLinkConfigsResponseData.value`` is nullable: Confluent returns
   ``null`` for sensitive configs and unset ones (``cluster.link.prefix``).
2. ``GET /kafka/v3/clusters`` is not in the Cloud spec: it is validated
   against the Confluent Platform spec's ``listKafkaClusters``.
3. The Confluent Platform spec's servers (``.../v3`` and ``.../kafka/v3``)
   are replaced by the Cloud server URL and its paths get the ``/kafka/v3``
   prefix, so one request URL fits both specs (a mapping, not a
   contract change; ``/v3/...`` requests are mapped to ``/kafka/v3/...``).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

ENV = "LAB_CONTRACT_LOG"
SPEC_DIR = Path(os.environ.get("LAB_OPENAPI_DIR", "/work/shared/reference/openapi"))
CLOUD_SPEC = Path(os.environ.get("LAB_OPENAPI_SPEC", SPEC_DIR / "confluent-cloud-kafka-rest-v3.yaml"))
PLATFORM_SPEC = Path(os.environ.get("LAB_OPENAPI_PLATFORM_SPEC",
                                    SPEC_DIR / "confluent-platform-kafka-rest-v3.yaml"))
SERVER = "https://pkc-00000.region.provider.confluent.cloud"
# the collection's REST client (ansible.module_utils.urls.open_url)
COLLECTION_USER_AGENT = "ansible-httpget"
SENSITIVE_KEY = re.compile(r"password|secret|token|jaas|credential|basic\.auth\.user\.info",
                           re.IGNORECASE)
METHODS = ("get", "put", "post", "delete", "patch")


# --------------------------------------------------------------------------- specs

def _yaml_load(path: Path) -> dict:
    import yaml

    class Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
        pass
    # keep timestamps as strings (examples hold datetimes; JSON cannot)
    Loader.yaml_implicit_resolvers = {
        k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
        for k, v in Loader.yaml_implicit_resolvers.items()}
    with open(path) as fh:
        return yaml.load(fh, Loader=Loader)


def adjust_cloud(spec: dict) -> dict:
    """The Cloud spec with adjustment 1 (see the module docstring)."""
    spec = copy.deepcopy(spec)
    schemas = spec["components"]["schemas"]
    schemas["ListLinkConfigsResponseData_allOf"]["properties"]["value"]["nullable"] = True
    return spec


def adjust_platform(spec: dict) -> dict:
    """The Platform spec, served at the same URL as the Cloud spec (adjustment 3)."""
    spec = copy.deepcopy(spec)
    spec["servers"] = [{"url": SERVER}]
    spec["paths"] = {"/kafka/v3" + k: v for k, v in spec["paths"].items()}
    # the same server for every path (the spec lists the REST Proxy and Confluent Server URLs)
    for item in spec["paths"].values():
        item.pop("servers", None)
    return spec


def _fingerprint() -> str:
    h = hashlib.sha256(Path(__file__).read_bytes())
    for p in (CLOUD_SPEC, PLATFORM_SPEC):
        st = p.stat()
        h.update(f"{p}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def load_spec_dicts(cache: Path | None = None) -> dict[str, dict]:
    """``{"cloud": spec, "platform": spec}``, adjusted; from ``cache`` (JSON) when
    it matches the spec files and this module, else parsed and written there."""
    fp = _fingerprint()
    if cache is not None:
        try:
            doc = json.loads(cache.read_text())
            if doc.get("fingerprint") == fp:
                return doc["specs"]
        except (OSError, ValueError, KeyError):
            pass
    specs = {"cloud": adjust_cloud(_yaml_load(CLOUD_SPEC)),
             "platform": adjust_platform(_yaml_load(PLATFORM_SPEC))}
    if cache is not None:
        tmp = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(json.dumps({"fingerprint": fp, "specs": specs}))
            os.replace(tmp, cache)
        except OSError:
            pass
    return specs


def _security_providers():
    """openapi-core's security providers, plus OAuth 2 (the specs' ``external-access-token``):
    openapi-core only warns for it, which made a request without credentials pass."""
    from openapi_core.security.exceptions import SecurityProviderError
    from openapi_core.security.factories import SecurityProviderFactory
    from openapi_core.security.providers import BaseProvider

    class BearerProvider(BaseProvider):
        def __call__(self, parameters):
            auth = parameters.header.get("Authorization") or ""
            if not auth.lower().startswith("bearer "):
                raise SecurityProviderError("Missing bearer token.")
            return auth.split(" ", 1)[1]

    class Factory(SecurityProviderFactory):
        PROVIDERS = {**SecurityProviderFactory.PROVIDERS, "oauth2": BearerProvider}

    return Factory()


class _Operation:
    __slots__ = ("spec_name", "template", "method", "op", "regex", "score", "query_names",
                 "bool_query", "params")

    def __init__(self, spec_name: str, template: str, method: str, op: dict, path_params: list):
        self.spec_name, self.template, self.method, self.op = spec_name, template, method, op
        pieces: list[str] = []
        self.params: list[str] = []
        self.score = 0  # literal characters: the most literal matching template wins
        for part in re.split(r"(\{[^}]+\})", template):
            if part.startswith("{"):
                pieces.append(f"(?P<p{len(self.params)}>[^/]+)")
                self.params.append(part[1:-1])
            elif part:
                pieces.append(re.escape(part))
                self.score += len(part)
        self.regex = re.compile("^" + "".join(pieces) + "$")
        query = [p for p in list(path_params) + list(op.get("parameters") or [])
                 if isinstance(p, dict) and p.get("in") == "query"]
        self.query_names = {p["name"] for p in query}
        self.bool_query = {p["name"] for p in query if (p.get("schema") or {}).get("type") == "boolean"}

    @property
    def operation_id(self) -> str:
        return self.op.get("operationId") or f"{self.method.upper()} {self.template}"


class Contract:
    """The loaded specs; ``check_request`` / ``check_response`` return lists of
    error strings (empty: valid)."""

    def __init__(self, specs: dict[str, dict]):
        from openapi_core import Config, OpenAPI
        self.specs = specs
        cfg = Config(spec_validator_cls=None, security_provider_factory=_security_providers())
        self.apis = {name: OpenAPI.from_dict(spec, config=cfg) for name, spec in specs.items()}
        # operations by method; Cloud first, then Platform-only ones
        self._ops: dict[str, list[_Operation]] = {m: [] for m in METHODS}
        seen: set[tuple[str, str]] = set()
        for name in ("cloud", "platform"):
            for tmpl, item in specs[name]["paths"].items():
                for m in METHODS:
                    if m in item and (m, tmpl) not in seen:
                        seen.add((m, tmpl))
                        self._ops[m].append(_Operation(name, tmpl, m, item[m],
                                                       item.get("parameters") or []))
        self._error_validator = None
        self._shapes: dict = {}
        self._request_memo: dict = {}
        self._validators: dict = {}

    @classmethod
    def load(cls, cache: Path | None = None) -> "Contract":
        return cls(load_spec_dicts(cache))

    # -- lookup
    def operation(self, method: str, path: str) -> _Operation | None:
        """The operation for a concrete ``/kafka/v3/...`` path: the most literal
        matching template (``/links/-/mirrors`` before ``/links/{link_name}/...``)."""
        best = None
        for op in self._ops.get(method.lower(), ()):
            if op.regex.match(path) and (best is None or op.score > best.score):
                best = op
        return best

    @staticmethod
    def kafka_path(path: str) -> str:
        return "/kafka" + path if path.startswith("/v3/") else path

    # -- request
    def check_request(self, op: _Operation, method: str, path: str, query: list[tuple[str, str]],
                      headers: dict[str, str], body: bytes, content_type: str | None) -> list[str]:
        if body:
            return self._check_request(op, method, path, query, headers, body, content_type)
        # bodiless requests repeat (polling): the result depends only on these, so remember it
        key = (op.spec_name, op.template, method, path, tuple(query), tuple(sorted(headers.items())),
               content_type)
        hit = self._request_memo.get(key)
        if hit is None:
            hit = self._check_request(op, method, path, query, headers, body, content_type)
            if len(self._request_memo) > 4096:
                self._request_memo.clear()
            self._request_memo[key] = hit
        return list(hit)

    def _check_request(self, op: _Operation, method: str, path: str, query: list[tuple[str, str]],
                       headers: dict[str, str], body: bytes, content_type: str | None) -> list[str]:
        from openapi_core.testing import MockRequest
        errors = [f"query parameter '{k}' is not declared by {op.operation_id}"
                  for k in dict.fromkeys(k for k, _ in query) if k not in op.query_names]
        # openapi-core casts yes/no/1/0/on/off to booleans; the spec's serialization is true/false
        # (a Java server reads anything else as false)
        errors += [f"query parameter '{k}': {v!r} is not a boolean (true or false)"
                   for k, v in query if k in op.bool_query and v not in ("true", "false")]
        data = body
        if body and content_type and "json" in content_type:
            try:
                data = json.dumps(redact(json.loads(body))).encode()
            except ValueError:
                pass
        m = op.regex.match(path)
        view_args = {name: unquote(m.group(f"p{i}")) for i, name in enumerate(op.params)}
        request = MockRequest(SERVER, method.lower(), path, path_pattern=op.template,
                              view_args=view_args, args=query, headers=headers, data=data or None,
                              content_type=content_type or "")
        validator = self.apis[op.spec_name].request_validator
        for exc in validator.iter_errors(request):
            errors.extend(describe(exc))
        if body and content_type and "json" in content_type:
            rb = self._deref(op.spec_name, op.op.get("requestBody") or {})
            schema = (((rb.get("content") or {}).get("application/json")) or {}).get("schema")
            try:
                instance = json.loads(body)
            except ValueError:
                instance = None
            if schema is not None and instance is not None:
                errors += self.unknown_properties(op.spec_name, schema, instance)
        return errors

    # -- response
    def check_response(self, op: _Operation, method: str, path: str, status: int,
                       content_type: str | None, body: Any) -> list[str]:
        """Status, content type and body of a response. A status the operation does not list must
        carry an ``Error`` body. The body is validated with openapi-schema-validator's
        ``OAS30ReadValidator`` (what openapi-core uses for responses) on the operation's schema
        with its ``$ref``s inlined, compiled once per response: about 2.5 times faster than
        openapi-core's per-call path and reference resolution, same verdicts."""
        responses = op.op.get("responses") or {}
        if str(status) not in responses and f"{str(status)[0]}XX" not in responses:
            if content_type is None or "json" not in content_type:
                return [f"status {status} is not listed for {op.operation_id} and the body is "
                        f"not a JSON Error (Content-Type {content_type})"]
            return [f"status {status} is not listed for {op.operation_id} and the body is not an "
                    f"Error: {msg}" for msg in self._error_errors(body)]
        documented = self._deref(op.spec_name, responses.get(str(status))
                                 or responses.get(f"{str(status)[0]}XX") or {})
        content = documented.get("content") or {}
        empty = body is None or body == "" or body == b""
        if not content:
            return [] if empty else [f"a body where the spec documents none ({op.operation_id} -> "
                                     f"{status})"]
        if empty:
            return [f"no body where the spec documents {', '.join(content)} ({op.operation_id} -> "
                    f"{status})"]
        mimetype = (content_type or "").split(";", 1)[0].strip().lower()
        media = content.get(mimetype)
        if media is None:
            return [f"Content-Type {content_type} is not one the spec documents for "
                    f"{op.operation_id} -> {status} ({', '.join(content)})"]
        schema = media.get("schema")
        if schema is None:
            return []
        if isinstance(body, (bytes, str)):
            text = body.decode() if isinstance(body, bytes) else body
            instance: Any = text
            if "json" in mimetype:
                try:
                    instance = json.loads(text)
                except ValueError as exc:
                    return [f"the body is not JSON: {exc}"]
        else:
            instance = json.loads(json.dumps(body))  # exactly what goes on the wire
        errors = [_schema_error(e) for e in self._read_validator(op.spec_name, schema).iter_errors(instance)]
        if not errors and isinstance(instance, (dict, list)):
            errors = self.unknown_properties(op.spec_name, schema, instance)
        return errors

    def _read_validator(self, spec_name: str, schema: Any):
        key = (spec_name, id(schema))
        validator = self._validators.get(key)
        if validator is None:
            from openapi_schema_validator import OAS30ReadValidator
            fmt = OAS30ReadValidator.FORMAT_CHECKER
            try:
                validator = OAS30ReadValidator(self._inline(spec_name, schema, ()), format_checker=fmt)
            except ValueError:  # a recursive schema: resolve its $refs against the whole spec
                validator = OAS30ReadValidator(self.specs[spec_name], format_checker=fmt).evolve(
                    schema=self._deref(spec_name, schema))
            self._validators[key] = validator
        return validator

    def _inline(self, spec_name: str, node: Any, refs: tuple) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                if ref in refs:
                    raise ValueError(f"recursive schema {ref}: cannot inline it")
                return self._inline(spec_name, self._deref(spec_name, {"$ref": ref}), refs + (ref,))
            return {k: (v if k in ("example", "examples") else self._inline(spec_name, v, refs))
                    for k, v in node.items()}
        if isinstance(node, list):
            return [self._inline(spec_name, v, refs) for v in node]
        return node

    def _error_errors(self, body: Any) -> list[str]:
        if self._error_validator is None:
            from openapi_schema_validator import OAS30Validator
            self._error_validator = OAS30Validator(self.specs["cloud"]["components"]["schemas"]["Error"])
        errors = [_schema_error(e) for e in self._error_validator.iter_errors(body)]
        if not errors:
            errors = self.unknown_properties("cloud", self.specs["cloud"]["components"]["schemas"]["Error"],
                                             body)
        return errors

    # -- properties the spec does not know
    def _deref(self, spec_name: str, obj: Any) -> Any:
        seen = 0
        while isinstance(obj, dict) and "$ref" in obj and seen < 20:
            node: Any = self.specs[spec_name]
            for part in obj["$ref"].lstrip("#/").split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
            obj, seen = node, seen + 1
        return obj

    def _shape(self, spec_name: str, schema: Any) -> tuple[set | None, dict, Any]:
        """``(allowed property names or None for any, property schemas, items schema)`` of a
        schema, merging allOf/oneOf/anyOf (so an allOf of Resource + X allows both)."""
        schema = self._deref(spec_name, schema)
        key = (spec_name, id(schema))
        hit = self._shapes.get(key)
        if hit is not None:
            return hit
        names: set | None = set()
        props: dict = {}
        items = None
        parts = [schema]
        parts += [self._deref(spec_name, s) for k in ("allOf", "oneOf", "anyOf") for s in schema.get(k) or []]
        open_ = False
        for part in parts:
            if not isinstance(part, dict):
                continue
            if part is not schema and any(k in part for k in ("allOf", "oneOf", "anyOf")):
                sub_names, sub_props, sub_items = self._shape(spec_name, part)
                if sub_names is None:
                    open_ = True
                else:
                    names |= sub_names
                props.update(sub_props)
                items = items or sub_items
                continue
            for name, sub in (part.get("properties") or {}).items():
                names.add(name)
                props[name] = sub
            if part.get("additionalProperties") not in (None, False):
                open_ = True
            if "items" in part:
                items = part["items"]
        if not names and not open_:
            open_ = True   # a free-form object (no properties declared)
        shape = (None if open_ else names, props, items)
        self._shapes[key] = shape
        return shape

    def unknown_properties(self, spec_name: str, schema: Any, instance: Any, path: str = "") -> list[str]:
        """Properties of ``instance`` that its schema does not declare (openapi-core allows them:
        OpenAPI's default; the lab is stricter so neither side invents fields)."""
        names, props, items = self._shape(spec_name, schema)
        out = []
        if isinstance(instance, dict):
            for key, value in instance.items():
                where = f"{path}/{key}" if path else key
                if names is not None and key not in names:
                    out.append(f"{where}: property not in the spec's schema")
                elif key in props and isinstance(value, (dict, list)):
                    out += self.unknown_properties(spec_name, props[key], value, where)
        elif isinstance(instance, list) and items is not None:
            for i, value in enumerate(instance):
                if isinstance(value, (dict, list)):
                    out += self.unknown_properties(spec_name, items, value, f"{path}/{i}" if path else str(i))
        return out



def _schema_error(err) -> str:
    loc = "/".join(str(p) for p in err.absolute_path)
    msg = err.message
    if len(msg) > 300:
        msg = msg[:300] + "..."
    return f"{loc or '<body>'}: {msg}"


def describe(exc: BaseException) -> list[str]:
    """Readable lines for an openapi-core error (nested schema errors flattened)."""
    out: list[str] = []
    seen = set()
    stack = [exc]
    while stack:
        e = stack.pop(0)
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        schema_errors = getattr(e, "schema_errors", None)
        if schema_errors:
            head = f"{type(e).__name__}"
            out.extend(f"{head}: {_schema_error(se)}" for se in schema_errors)
            continue
        nested = getattr(e, "errors", None)
        if isinstance(nested, (list, tuple)) and nested:
            stack.extend(nested)
            continue
        if e.__cause__ is not None:
            stack.append(e.__cause__)
            continue
        text = str(e)
        out.append(f"{type(e).__name__}: {text[:300]}" if text else type(e).__name__)
    return out


def redact(value: Any) -> Any:
    """``value`` with secrets replaced by placeholders of the same type: the
    ``value`` of ``{name, value}`` entries whose name is a sensitive link
    config or looks secret, and values of keys that look secret."""
    if isinstance(value, dict):
        out = {}
        name = value.get("name")
        secret_entry = isinstance(name, str) and _sensitive_name(name)
        for k, v in value.items():
            if (secret_entry and k == "value") or (isinstance(k, str) and SENSITIVE_KEY.search(k)):
                out[k] = _placeholder(v)
            else:
                out[k] = redact(v)
        return out
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def _placeholder(v: Any) -> Any:
    if isinstance(v, str):
        return "<redacted>"
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, (int, float)):
        return type(v)(0)
    if isinstance(v, list):
        return ["<redacted>" for _ in v]
    if isinstance(v, dict):
        return {k: "<redacted>" for k in v}
    return "<redacted>"


_SENSITIVE_CONFIGS: set[str] | None = None


def _sensitive_name(name: str) -> bool:
    global _SENSITIVE_CONFIGS
    if _SENSITIVE_CONFIGS is None:
        try:
            from linkops_lab.emulator.linkconfigs import CONFIG_DEFS
            _SENSITIVE_CONFIGS = {n for n, d in CONFIG_DEFS.items() if d.sensitive}
        except Exception:
            _SENSITIVE_CONFIGS = set()
    return name in _SENSITIVE_CONFIGS or bool(SENSITIVE_KEY.search(name))


def redact_query(query: list[tuple[str, str]]) -> dict:
    out: dict[str, Any] = {}
    for k, v in query:
        v = "<redacted>" if SENSITIVE_KEY.search(k) else v
        out[k] = v if k not in out else (out[k] if isinstance(out[k], list) else [out[k]]) + [v]
    return out
