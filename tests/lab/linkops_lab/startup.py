"""Starting a lab: the brokers of the chosen kind (brokers/) or the external clusters named by the
environment, then the emulator process with its config, REST ports and TLS files, until both
REST servers answer; the result is lab.json's dict. Also the environment the start reads
(``KNOB_ENV``, ``LAB_*``) and the REST TLS choice (``rest_tls_choice``). ``Lab.start`` (lab.py)
calls ``start_all``; everything after the start is the ``Lab`` handle's."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

from linkops_lab import brokers, kafka
from linkops_lab.emulator import faults
from linkops_lab.errors import LabError
from linkops_lab.kafka import LabKafkaError
from linkops_lab.procs import Proc, write_private

HERE = Path(__file__).resolve().parent
LABCTL = HERE.parent / "labctl.py"   # the entry point (tests/lab/labctl.py -> linkops_lab.ctl)

# the lab's REST TLS files, under <workdir>/tls (lab_tls; the lab CA is the brokers' CA)
REST_SERVER_CERT = "rest-server"
REST_CLIENT_CERT = "rest-client"

KNOB_ENV = {
    "pending_stopped_ms": "LAB_PENDING_STOPPED_MS",
    "pending_mirror_ms": "LAB_PENDING_MIRROR_MS",
    "pending_synchronize_ms": "LAB_PENDING_SYNCHRONIZE_MS",
    "pending_restore_ms": "LAB_PENDING_RESTORE_MS",
    "auto_create_interval_ms": "LAB_AUTO_CREATE_INTERVAL_MS",
    "copy_interval_ms": "LAB_COPY_INTERVAL_MS",
    "copy_idle_max_ms": "LAB_COPY_IDLE_MAX_MS",
    "state_save_ms": "LAB_STATE_SAVE_MS",
    "metadata_interval_ms": "LAB_METADATA_INTERVAL_MS",
}

CLUSTERS = ("source", "destination")


def _env_flag(name: str) -> bool | None:
    raw = (os.environ.get(name) or "").strip().lower()
    if not raw:
        return None
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise LabError(f"{name}={os.environ[name]!r}: use 1 or 0")


def rest_tls_choice(kind: str, rest_tls: bool | None = None,
                    rest_mtls: bool | None = None) -> tuple[bool, bool]:
    """(HTTPS, client certificates required) for a lab of broker kind ``kind``: the arguments,
    else LAB_REST_TLS / LAB_REST_MTLS, else HTTPS with apache-kafka brokers and http with noida;
    mTLS only when asked for (it implies HTTPS)."""
    mtls = rest_mtls if rest_mtls is not None else bool(_env_flag("LAB_REST_MTLS"))
    tls = rest_tls if rest_tls is not None else _env_flag("LAB_REST_TLS")
    if tls is None:
        tls = mtls or kind == "apache-kafka"
    if mtls and not tls:
        raise LabError("client certificates (--rest-mtls, LAB_REST_MTLS) need HTTPS REST: "
                       "drop --no-rest-tls / LAB_REST_TLS=0")
    return tls, mtls


def _env_json(name: str) -> dict:
    raw = os.environ.get(name)
    if not raw:
        return {}
    try:
        val = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise LabError(f"{name} is not valid JSON: {exc}") from None
    if not isinstance(val, dict):
        raise LabError(f"{name} must be a JSON object of librdkafka settings")
    return {str(k): str(v) for k, v in val.items()}


def start_all(workdir: Path, procs: list[Proc], keep_data: bool, preexec, knobs: dict,
              ready_timeout: float, kind: str, die_with_parent: bool, tls: tuple[bool, bool],
              handle: Callable[[dict], Any]) -> dict:
    """Start the brokers of the roles without an external cluster (``LAB_<ROLE>_BOOTSTRAP``),
    wait for the external ones, start the emulator and wait until both REST servers answer;
    returns lab.json's dict. Every process started is appended to ``procs`` (the caller stops
    them on failure). ``handle(info)``: a ``Lab`` over ``info`` that owns nothing (its ``rest``
    is the health check)."""
    info: dict[str, Any] = {"workdir": str(workdir), "kind": kind, "pids": {}, "logs": {},
                            "external": {}}
    broker = brokers.get(kind)
    base_cfg = dict(broker.CLIENT_CONFIG)
    clusters: dict[str, dict] = {}
    # --keep-data reuses the ports of the previous run: links keep pointing at them
    ports_file = workdir / "ports.json"
    old_ports: dict = {}
    if keep_data and ports_file.exists():
        try:
            old_ports = json.loads(ports_file.read_text())
        except (OSError, json.JSONDecodeError):
            old_ports = {}
    new_ports: dict = {}
    own: dict[str, int] = {}    # the roles the lab starts a broker for: fixed port or 0
    for role in CLUSTERS:
        up = role.upper()
        ext = os.environ.get(f"LAB_{up}_BOOTSTRAP")
        extra = _env_json(f"LAB_{up}_CLIENT_CONFIG")
        if ext:
            clusters[role] = {"bootstrap": ext, "client_config": {**base_cfg, **extra},
                              "external": True}
            info["external"][role] = True
            continue
        info["external"][role] = False
        clusters[role] = {"client_config": extra, "external": False}
        own[role] = int(os.environ.get(f"LAB_{up}_PORT") or 0) or old_ports.get(role) or 0
    started: dict = {}
    if own:
        try:
            started = broker.start_many(
                list(own), workdir, ports={r: p for r, p in own.items() if p},
                keep_data=keep_data, die_with_parent=die_with_parent,
                ready_timeout=max(ready_timeout, getattr(broker, "READY_TIMEOUT", 0)))
        except LabError:
            raise
        except RuntimeError as exc:     # the kind's own errors (e.g. no Java 17+)
            raise LabError(str(exc)) from None
    for role, b in started.items():
        procs.append(Proc(f"{role}_broker", b.pid, broker.marker(role, workdir), b.popen))
        info["pids"][f"{role}_broker"] = b.pid
        info["logs"][f"{role}_broker"] = str(b.log_path)
        new_ports[role] = int(b.bootstrap.rsplit(":", 1)[1])
        c = clusters[role]
        c.update(bootstrap=b.bootstrap, data_dir=str(b.data_path), reported_cluster_id=b.cluster_id,
                 client_config={**base_cfg, **b.client_config(bootstrap=False),
                                **c["client_config"]})
        info.update(broker.lab_entries(role, b))
    for role in CLUSTERS:
        c = clusters[role]
        if not c["external"]:
            # a kind with logical ids (noida: every instance reports the same id) gets them,
            # or LAB_*_CLUSTER_ID; a real broker's own id is never overridden
            logical = broker.DEFAULT_CLUSTER_IDS.get(role)
            c["cluster_id"] = ((os.environ.get(f"LAB_{role.upper()}_CLUSTER_ID") or logical)
                               if logical else c["reported_cluster_id"])
            continue
        try:
            ext_timeout = float(os.environ.get("LAB_EXTERNAL_READY_TIMEOUT") or 15)
            reported = kafka.wait_ready(c["bootstrap"], c["client_config"], timeout=ext_timeout)
        except LabKafkaError as exc:
            hint = (f" (LAB_{role.upper()}_BOOTSTRAP is set: unset it to let the lab start "
                    "its own broker; `labctl.py env` output sets it too)")
            raise LabError(f"{role} cluster at {c['bootstrap']} is not ready: {exc}{hint}") from None
        c["cluster_id"] = os.environ.get(f"LAB_{role.upper()}_CLUSTER_ID") or reported
        c["reported_cluster_id"] = reported
    if clusters["source"]["cluster_id"] == clusters["destination"]["cluster_id"]:
        raise LabError("source and destination have the same cluster id "
                       f"{clusters['source']['cluster_id']!r}: set LAB_SOURCE_CLUSTER_ID / "
                       "LAB_DESTINATION_CLUSTER_ID")
    # emulator
    username = os.environ.get("LAB_REST_USERNAME") or "lab"
    password = os.environ.get("LAB_REST_PASSWORD") or secrets.token_urlsafe(18)
    knob_values = {}
    for knob, env in KNOB_ENV.items():
        if os.environ.get(env):
            knob_values[knob] = int(os.environ[env])
    if os.environ.get("LAB_FAULTS"):  # REST faults from the start (faults.py)
        knob_values["faults"] = os.environ["LAB_FAULTS"]
    knob_values.update(knobs)
    if "faults" in knob_values:
        try:
            knob_values["faults"] = faults.parse(knob_values["faults"])
        except ValueError as exc:
            raise LabError(f"{'knobs' if 'faults' in knobs else 'LAB_FAULTS'}: {exc}") from None
    state_file = workdir / "emulator-state.json"
    if state_file.exists() and not keep_data:
        state_file.unlink()
    port_file = workdir / "emulator.port"
    if port_file.exists():
        port_file.unlink()
    rest_ports = {
        "destination": int(os.environ.get("LAB_EMULATOR_PORT") or 0)
        or old_ports.get("emulator", 0),
        "source": int(os.environ.get("LAB_SOURCE_EMULATOR_PORT") or 0)
        or old_ports.get("emulator_source", 0),
    }
    emu_cfg = {
        "host": "127.0.0.1",
        "username": username,
        "password": password,
        # one REST server per cluster, destination first (the default cluster)
        "clusters": [{"name": role, "port": rest_ports[role],
                      **{k: clusters[role][k] for k in ("cluster_id", "bootstrap", "client_config")},
                      # links to a secured lab broker connect with their own configs
                      **({"link_security": True} if getattr(broker, "LINK_SECURITY", False)
                         and not clusters[role]["external"] else {}),
                      # its ACLs are the broker's (an authorizer), not the emulator's store
                      **({"broker_acls": True} if getattr(broker, "BROKER_ACLS", False)
                         and not clusters[role]["external"] else {})}
                     for role in ("destination", "source")],
        "state_file": str(state_file),
        "port_file": str(port_file),
        "knobs": knob_values,
    }
    rest_tls_info = rest_tls_files(workdir, *tls)
    if tls[0]:
        emu_cfg["tls"] = {"certfile": rest_tls_info["rest_server_cert"],
                          "client_ca": rest_tls_info["rest_ca_path"] if tls[1] else None}
    cfg_path = workdir / "emulator-config.json"
    write_private(cfg_path, json.dumps(emu_cfg, indent=2))
    log_path = workdir / "emulator.log"
    with open(log_path, "ab") as logf:
        popen = subprocess.Popen([sys.executable, str(LABCTL), "serve-emulator", "--config",
                                  str(cfg_path)],
                                 stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                                 cwd=workdir, start_new_session=True, preexec_fn=preexec)
    procs.append(Proc("emulator", popen.pid, str(cfg_path), popen))
    info["pids"]["emulator"] = popen.pid
    info["logs"]["emulator"] = str(log_path)
    deadline = time.monotonic() + ready_timeout
    while not port_file.exists():
        if popen.poll() is not None:
            raise LabError(f"emulator exited with {popen.returncode}; see {log_path}")
        if time.monotonic() > deadline:
            raise LabError(f"emulator did not start within {ready_timeout}s; see {log_path}")
        time.sleep(0.05)
    emu_ports = json.loads(port_file.read_text())
    port, source_port = emu_ports["destination"], emu_ports["source"]
    new_ports["emulator"] = port
    new_ports["emulator_source"] = source_port
    write_private(ports_file, json.dumps(new_ports))
    scheme = "https" if tls[0] else "http"
    info.update(rest_tls_info)
    info.update({
        "rest_url": f"{scheme}://127.0.0.1:{port}/kafka",
        "destination_rest_url": f"{scheme}://127.0.0.1:{port}/kafka",
        "source_rest_url": f"{scheme}://127.0.0.1:{source_port}/kafka",
        "rest_username": username,
        "rest_password": password,
        "emulator_port": port,
        "emulator_ports": {"destination": port, "source": source_port},
        "source_cluster_id": clusters["source"]["cluster_id"],
        "destination_cluster_id": clusters["destination"]["cluster_id"],
        "source_bootstrap": clusters["source"]["bootstrap"],
        "destination_bootstrap": clusters["destination"]["bootstrap"],
        "client_config": dict(base_cfg),
        "source_client_config": clusters["source"]["client_config"],
        "destination_client_config": clusters["destination"]["client_config"],
        "state_file": str(state_file),
        "emulator_config": str(cfg_path),
        "started_at": int(time.time()),
    })
    probe = handle(info)
    while True:
        try:
            if all(probe.rest("GET", "/lab/v1/health", timeout=2, cluster=role)[0] == 200
                   for role in CLUSTERS):
                break
        except (OSError, LabError):
            pass
        if popen.poll() is not None:
            raise LabError(f"emulator exited with {popen.returncode}; see {log_path}")
        if time.monotonic() > deadline:
            raise LabError(f"emulator not healthy within {ready_timeout}s; see {log_path}")
        time.sleep(0.05)
    return info


def rest_tls_files(workdir: Path, tls: bool, mtls: bool) -> dict:
    """lab.json's REST TLS entries; the certificates are made (lab_tls) when first needed."""
    out: dict[str, Any] = {"rest_tls": tls, "rest_mtls": mtls}
    if not tls:
        return out
    from linkops_lab.brokers import lab_tls
    from linkops_lab.brokers.kafka_dist import ApacheKafkaError
    try:
        ca, _ = lab_tls.ensure_ca(workdir)
        out["rest_ca_path"] = str(ca)
        out["rest_server_cert"] = str(lab_tls.ensure_server_cert(workdir, REST_SERVER_CERT))
        if mtls:
            crt, key = lab_tls.ensure_client_cert(workdir, REST_CLIENT_CERT)
            out.update(rest_client_cert=str(crt), rest_client_key=str(key))
    except ApacheKafkaError as exc:     # no openssl, or it failed
        raise LabError(f"HTTPS REST needs a certificate of the lab CA: {exc} (or start the "
                       "lab with http REST: LAB_REST_TLS=0)") from None
    return out
