"""Shared parts of the lab's CP tools.

* ``OptionParser``: joptsimple-style options as the Kafka tools take them
  (``--flag value``, ``--flag=value``, a single leading dash, unique
  abbreviations), a help table in joptsimple's layout.
* ``Lab`` / ``load_lab``: lab.json, and ``--bootstrap-server`` -> lab cluster
  -> REST URL.
* ``RestClient``: Kafka REST v3 calls with HTTP Basic auth (urllib).
* ``check_client_security``: the shape checks of ``--command-config``.
* ``run_tool``: the common ``main`` frame (usage errors, one-line errors,
  exit codes, no tracebacks).
"""

from __future__ import annotations

import base64
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from linkops_lab.cptools import VERSION
from linkops_lab.cptools.errors import CommandError, RestError, UsageError
from linkops_lab.cptools.properties import load_properties

REPO = Path(__file__).resolve().parents[4]


# --------------------------------------------------------------------------- options

@dataclass
class Opt:
    name: str
    help: str
    arg: str | None = None        # describedAs of a required argument; None: a flag
    type: str = "String"
    multi: bool = False           # repeatable, values separated by ','
    hidden: bool = False          # accepted, not in the help table


@dataclass
class Parsed:
    values: dict[str, list[str]] = field(default_factory=dict)
    extra: list[str] = field(default_factory=list)

    def has(self, name: str) -> bool:
        return name in self.values

    def value(self, name: str) -> str | None:
        vals = self.values.get(name)
        return vals[-1] if vals else None

    def list(self, name: str) -> list[str]:
        return list(self.values.get(name, []))


class OptionParser:
    def __init__(self, opts: list[Opt]):
        self.opts = {o.name: o for o in opts}

    def _lookup(self, name: str) -> Opt:
        if name in self.opts:
            return self.opts[name]
        matches = [o for n, o in self.opts.items() if n.startswith(name)]
        if len(matches) == 1 and name:
            return matches[0]
        raise UsageError(f"{name} is not a recognized option")

    def parse(self, argv: list[str]) -> Parsed:
        parsed = Parsed()
        i = 0
        while i < len(argv):
            tok = argv[i]
            i += 1
            if tok == "--":
                parsed.extra.extend(argv[i:])
                break
            if not tok.startswith("-") or tok == "-":
                parsed.extra.append(tok)
                continue
            name = tok[2:] if tok.startswith("--") else tok[1:]
            inline = None
            if "=" in name:
                name, inline = name.split("=", 1)
            opt = self._lookup(name)
            if opt.arg is None:
                if inline is not None:
                    raise UsageError(f"Option {opt.name} does not take an argument")
                parsed.values.setdefault(opt.name, [])
                continue
            if inline is None:
                if i >= len(argv):
                    raise UsageError(f"Option {opt.name} requires an argument")
                inline = argv[i]
                i += 1
            vals = parsed.values.setdefault(opt.name, [])
            if opt.multi:
                vals.extend(v for v in inline.split(",") if v != "")
            else:
                if vals and vals[-1] != inline:
                    raise UsageError(f"Option {opt.name} accepts only one argument "
                                     f"(given '{vals[-1]}' and '{inline}')")
                vals.append(inline)
        return parsed

    def help_table(self) -> str:
        left_w = 41
        rows = [("Option", "Description"), ("------", "-----------")]
        for name in sorted(self.opts):
            o = self.opts[name]
            if o.hidden:
                continue
            left = f"--{o.name}" + (f" <{o.type}: {o.arg}>" if o.arg else "")
            rows.append((left, o.help))
        lines = []
        for left, desc in rows:
            lparts = _wrap(left, left_w - 2, left_w - 4)
            dparts = _wrap(desc, 38)
            for k in range(max(len(lparts), len(dparts))):
                lp = ("" if k == 0 else "  ") + (lparts[k] if k < len(lparts) else "")
                dp = dparts[k] if k < len(dparts) else ""
                lines.append((lp.ljust(left_w) + dp).rstrip())
        return "\n".join(lines)


def _wrap(text: str, width: int, rest_width: int | None = None) -> list[str]:
    out: list[str] = []
    for para in text.split("\n"):
        line = ""
        for word in para.split(" "):
            limit = width if not out else (rest_width or width)
            if line and len(line) + 1 + len(word) > limit:
                out.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        out.append(line)
    return out or [""]


def require_one_action(parsed: Parsed, actions: list[str], message: str) -> str:
    given = [a for a in actions if parsed.has(a)]
    if len(given) != 1:
        raise UsageError(message)
    return given[0]


def check_invalid_with(parsed: Parsed, used: str, invalid: list[str], quote: str = '"') -> None:
    """Apache CommandLineUtils.checkInvalidArgs."""
    if not parsed.has(used):
        return
    for other in invalid:
        if parsed.has(other):
            raise UsageError(f"Option {quote}[{used}]{quote} can't be used with option "
                             f"{quote}[{other}]{quote}")


# --------------------------------------------------------------------------- the lab

@dataclass
class LabCluster:
    role: str
    bootstrap: str
    cluster_id: str
    rest_url: str | None
    username: str
    password: str
    client_config: dict
    # an HTTPS lab: the CA of its REST certificate, and with mTLS the client certificate and key
    ca_path: str | None = None
    client_cert: str | None = None
    client_key: str | None = None


def lab_dir() -> Path:
    """$LINKOPS_LAB_DIR, else $LAB_DIR (what ``labctl.py env`` exports), else <repo>/.lab."""
    for var in ("LINKOPS_LAB_DIR", "LAB_DIR"):
        if os.environ.get(var):
            return Path(os.environ[var]).expanduser().resolve()
    return REPO / ".lab"


def _addresses(servers: str) -> set[str]:
    out = set()
    for part in servers.split(","):
        part = part.strip()
        if not part:
            continue
        host, _, port = part.rpartition(":")
        host = host.strip("[]").lower()
        if host in ("localhost", "::1", "ip6-localhost"):
            host = "127.0.0.1"
        out.add(f"{host}:{port}")
    return out


class Lab:
    def __init__(self, directory: Path, info: dict):
        self.dir = directory
        self.info = info
        self.clusters: list[LabCluster] = []
        for role in ("source", "destination"):
            bootstrap = info.get(f"{role}_bootstrap")
            if not bootstrap:
                continue
            rest = info.get(f"{role}_rest_url")
            if rest is None and role == "destination":
                rest = info.get("rest_url")
            self.clusters.append(LabCluster(
                role=role, bootstrap=bootstrap, cluster_id=info.get(f"{role}_cluster_id", ""),
                rest_url=rest.rstrip("/") if rest else None,
                username=info.get(f"{role}_rest_username") or info.get("rest_username") or "",
                password=info.get(f"{role}_rest_password") or info.get("rest_password") or "",
                client_config=dict(info.get(f"{role}_client_config") or info.get("client_config") or {}),
                ca_path=info.get("rest_ca_path"), client_cert=info.get("rest_client_cert"),
                client_key=info.get("rest_client_key"),
            ))

    def find(self, servers: str) -> LabCluster | None:
        wanted = _addresses(servers)
        hits = {c.role: c for c in self.clusters if wanted & _addresses(c.bootstrap)}
        if len(hits) > 1:
            raise CommandError(f"bootstrap servers '{servers}' name brokers of more than one lab "
                               f"cluster ({', '.join(sorted(hits))}); give the brokers of one cluster")
        return next(iter(hits.values()), None)

    def describe_clusters(self) -> str:
        return ", ".join(f"{c.role} {c.bootstrap}" for c in self.clusters)

    def resolve(self, servers: str) -> LabCluster:
        """The lab cluster at ``--bootstrap-server``, with a REST endpoint."""
        c = self.find(servers)
        if c is None:
            raise CommandError(
                f"org.apache.kafka.common.errors.TimeoutException: Timed out waiting for a node "
                f"assignment: no broker answers at '{servers}' (linkops lab: not a bootstrap server "
                f"of the lab in {self.dir}; its clusters are {self.describe_clusters()})")
        if not c.rest_url:
            raise CommandError(
                f"org.apache.kafka.common.errors.UnsupportedVersionException: the {c.role} cluster "
                f"at '{servers}' has no Cluster Linking endpoint in this lab (lab.json in "
                f"{self.dir} has no {c.role}_rest_url)")
        return c


def load_lab() -> Lab:
    d = lab_dir()
    path = d / "lab.json"
    try:
        info = json.loads(path.read_text())
    except FileNotFoundError:
        raise CommandError(f"no linkops lab is running: {path} does not exist (start one with "
                           f"`python tests/lab/labctl.py up`, or set LINKOPS_LAB_DIR to the lab "
                           f"directory)") from None
    except (OSError, ValueError) as exc:
        raise CommandError(f"cannot read {path}: {exc}") from None
    return Lab(d, info)


# --------------------------------------------------------------------------- REST

_RETRY_STATUSES = (429, 502, 503, 504)


class RestClient:
    """Kafka REST v3 of one lab cluster: ``<rest_url>/v3/clusters/<id><path>``."""

    def __init__(self, cluster: LabCluster, timeout: float = 60.0):
        self.cluster = cluster
        self.timeout = timeout
        token = base64.b64encode(f"{cluster.username}:{cluster.password}".encode()).decode()
        self._auth = f"Basic {token}"
        self.trace = bool(os.environ.get("LINKOPS_CPTOOLS_TRACE"))
        self._context = None
        if (cluster.rest_url or "").startswith("https:"):
            # the lab's HTTPS REST: trust the lab CA (lab.json rest_ca_path), present its client
            # certificate when the lab requires one (the real tools speak Kafka, with the
            # --command-config's ssl.* settings; the lab's tools speak REST and read lab.json)
            from linkops_lab.brokers.lab_tls import client_context
            try:
                self._context = client_context(cluster.ca_path, cluster.client_cert, cluster.client_key)
            except (OSError, ValueError) as exc:
                raise CommandError(f"cannot use the lab's REST TLS files (lab.json rest_ca_path, "
                                   f"rest_client_cert, rest_client_key): {exc}") from None

    def url(self, path: str, params: dict | None = None) -> str:
        url = f"{self.cluster.rest_url}/v3/clusters/{self.cluster.cluster_id}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(
                {k: ("true" if v is True else "false" if v is False else v)
                 for k, v in params.items() if v is not None})
        return url

    def request(self, method: str, path: str, body: Any = None,
                params: dict | None = None) -> tuple[int, Any]:
        url = self.url(path, params)
        data = None if body is None else json.dumps(body).encode()
        attempts = 3 if method == "GET" else 1
        for attempt in range(attempts):
            req = urllib.request.Request(url, data=data, method=method)
            req.add_header("Authorization", self._auth)
            req.add_header("Accept", "application/json")
            if data is not None:
                req.add_header("Content-Type", "application/json")
            try:
                with urllib.request.urlopen(req, timeout=self.timeout, context=self._context) as resp:
                    status, raw = resp.status, resp.read()
            except urllib.error.HTTPError as exc:
                status, raw = exc.code, exc.read()
            except (urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                raise CommandError(f"cannot reach the lab's Kafka REST endpoint "
                                   f"{self.cluster.rest_url} for the {self.cluster.role} cluster: "
                                   f"{reason} (is the lab up? `labctl.py status`)") from None
            if self.trace:
                print(f"lab-rest: {method} {urllib.parse.urlsplit(url).path} -> {status}",
                      file=sys.stderr)
            if status in _RETRY_STATUSES and attempt + 1 < attempts:
                time.sleep(0.2 * (attempt + 1))
                continue
            break
        text = raw.decode("utf-8", "replace") if raw else ""
        try:
            parsed = json.loads(text) if text.strip() else None
        except ValueError:
            parsed = text
        return status, parsed

    def call(self, method: str, path: str, body: Any = None, params: dict | None = None) -> Any:
        status, data = self.request(method, path, body, params)
        if status >= 400:
            if isinstance(data, dict):
                raise RestError(status, data.get("error_code"),
                                str(data.get("message") or f"HTTP {status}"))
            snippet = " ".join(re.sub(r"<[^>]+>", " ", str(data or "")).split())[:200]
            raise RestError(status, status, f"HTTP {status}" + (f": {snippet}" if snippet else ""))
        return data


# --------------------------------------------------------------------------- --command-config

_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
_JAAS = re.compile(
    r"^\s*(?P<module>[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\s+"
    r"(?P<flag>required|requisite|sufficient|optional)"
    r"(?P<opts>(?:\s+[A-Za-z_][\w.\-]*\s*=\s*(?:\"(?:[^\"\\]|\\.)*\"|[^\s;\"]+))*)\s*;\s*$",
    re.S | re.I)
_JAAS_OPT = re.compile(r"([A-Za-z_][\w.\-]*)\s*=\s*(\"(?:[^\"\\]|\\.)*\"|[^\s;\"]+)")
_MECHANISM_MODULES = {
    "PLAIN": ("PlainLoginModule", ("username", "password")),
    "SCRAM-SHA-256": ("ScramLoginModule", ("username", "password")),
    "SCRAM-SHA-512": ("ScramLoginModule", ("username", "password")),
    "OAUTHBEARER": ("OAuthBearerLoginModule", ()),
    "GSSAPI": ("Krb5LoginModule", ()),
}


def check_jaas(value: str, mechanism: str, key: str) -> str | None:
    """A problem with a ``sasl.jaas.config`` value, or None. Never quotes the value."""
    m = _JAAS.match(value or "")
    if not m:
        return (f"{key} is not a JAAS login module line ('<LoginModule class> required "
                f"key=\"value\" ...;')")
    expected = _MECHANISM_MODULES.get(mechanism)
    if expected:
        module, needed = expected
        if not m.group("module").endswith(module):
            return f"{key} uses {m.group('module')}, but sasl.mechanism={mechanism} needs {module}"
        opts = {k for k, _ in _JAAS_OPT.findall(m.group("opts"))}
        missing = [n for n in needed if n not in opts]
        if missing:
            return f"{key} has no {' and no '.join(missing)} for sasl.mechanism={mechanism}"
    return None


def check_client_security(props: dict[str, str], where: str) -> None:
    """Shape checks of client security settings (the lab brokers do not
    authenticate, so these are checked, not used)."""
    problems = []
    protocol = (props.get("security.protocol") or "PLAINTEXT").strip().upper()
    if protocol not in _PROTOCOLS:
        problems.append(f"security.protocol={props.get('security.protocol')!r} is not one of "
                        f"{', '.join(_PROTOCOLS)}")
    if protocol.startswith("SASL_"):
        mechanism = (props.get("sasl.mechanism") or "GSSAPI").strip()
        if not props.get("sasl.jaas.config"):
            problems.append(f"security.protocol={protocol} needs sasl.jaas.config (a JAAS file "
                            "given with -Djava.security.auth.login.config cannot be used here)")
        else:
            p = check_jaas(props["sasl.jaas.config"], mechanism, "sasl.jaas.config")
            if p:
                problems.append(p)
    if protocol in ("SSL", "SASL_SSL"):
        for key in ("ssl.truststore.location", "ssl.keystore.location"):
            loc = props.get(key)
            if loc and not Path(loc).is_file():
                problems.append(f"{key} names a file that does not exist: {loc}")
    if problems:
        raise CommandError(f"org.apache.kafka.common.KafkaException: Failed to create new "
                           f"KafkaAdminClient: {'; '.join(problems)} (in {where})")


def load_command_config(parsed: Parsed) -> dict[str, str]:
    path = parsed.value("command-config")
    if path is None:
        return {}
    props = load_properties(path, "command-config")
    check_client_security(props, f"--command-config {path}")
    return props


# --------------------------------------------------------------------------- output

_SECRET_KEY = re.compile(r"(jaas|password|secret|credential|token|basic\.auth\.user\.info|"
                         r"ssl\.key\b|private)", re.I)


def is_secret_key(name: str) -> bool:
    return bool(_SECRET_KEY.search(name))


def scrub(message: str, secrets: list[str], min_len: int = 4) -> str:
    """Remove secret values a server might echo from a message."""
    for s in sorted((s for s in secrets if s and len(s) >= min_len), key=len, reverse=True):
        message = message.replace(s, "[hidden]")
    return message


def java_list(items) -> str:
    return "[" + ", ".join(str(i) for i in items) + "]"


def out(line: str = "") -> None:
    sys.stdout.write(line + "\n")


def err(line: str = "") -> None:
    sys.stderr.write(line + "\n")


def version_line(tool: str) -> str:
    return (f"{VERSION} ({tool}: linkops lab emulation of the Confluent Platform tool; it talks "
            f"to the lab's Kafka REST v3 emulator, not to Confluent Server)")


def run_tool(tool: str, parser: OptionParser, header: str, body: Callable[[Parsed], int],
             argv: list[str] | None, on_error: Callable[[str], None]) -> int:
    """Parse, run and map failures: usage errors -> stderr + usage table, exit 1;
    CommandError/RestError -> ``on_error(message)``, exit 1; never a traceback
    (unless LINKOPS_CPTOOLS_DEBUG is set)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        try:
            if not argv:
                raise UsageError(header)
            parsed = parser.parse(argv)
            if parsed.has("version"):
                out(version_line(tool))
                return 0
            if parsed.has("help"):
                out(header)
                out(parser.help_table())
                return 0
            if parsed.extra:
                raise UsageError(f"Found non-option arguments: {' '.join(parsed.extra)}")
            return body(parsed)
        except UsageError as exc:
            err(str(exc))
            err(parser.help_table())
            return 1
        except RestError as exc:
            on_error(exc.message)
            return 1
        except CommandError as exc:
            on_error(str(exc))
            return 1
        except KeyboardInterrupt:
            return 130
        except Exception as exc:  # no tracebacks for users
            if os.environ.get("LINKOPS_CPTOOLS_DEBUG"):
                raise
            on_error(f"{type(exc).__name__}: {exc}")
            return 1
        finally:
            try:
                sys.stdout.flush()
            except BrokenPipeError:
                pass
    except BrokenPipeError:
        return 1


COMMON_OPTS = [
    Opt("bootstrap-server", "REQUIRED: The server(s) to connect to: the host:port of a lab "
        "cluster's broker (see lab.json).", arg="host:port"),
    Opt("command-config", "Property file containing configs to be passed to Admin Client. The "
        "lab checks its security settings for shape; the lab brokers do not authenticate.",
        arg="command config property file"),
    Opt("help", "Print usage information."),
    Opt("version", "Display the version of this tool (a linkops lab emulation)."),
]
