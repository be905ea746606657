#!/usr/bin/env python3
"""labctl: start, stop and use the local Cluster Linking lab (docs/lab.md).

    .venv/bin/python tests/lab/labctl.py up [--dir .lab] [--brokers noida|apache-kafka]
                                            [--rest-tls | --no-rest-tls] [--rest-mtls]
                                                  start brokers + emulator (env LAB_BROKERS,
                                                  LAB_REST_TLS, LAB_REST_MTLS)
    .venv/bin/python tests/lab/labctl.py status|env|down [--dir .lab]
    .venv/bin/python tests/lab/labctl.py create-topic --cluster source --topic T --partitions 3
    .venv/bin/python tests/lab/labctl.py produce --cluster source --topic T --values a,b,c [--key K]
    .venv/bin/python tests/lab/labctl.py produce --cluster source --topic T --count N --size BYTES
    .venv/bin/python tests/lab/labctl.py consume --cluster destination --topic T [--group G --commit] [--max N] --json
    .venv/bin/python tests/lab/labctl.py group-offsets --cluster destination --group G --json
    .venv/bin/python tests/lab/labctl.py knobs [name=value ...]
    .venv/bin/python tests/lab/labctl.py stop-broker|start-broker --cluster source
    .venv/bin/python tests/lab/labctl.py jump-host up|down|status   an SSH jump host (sshd on 127.0.0.1, user linkops-jump)
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path


def _dir(args) -> Path:
    return Path(args.dir).resolve()


def cmd_up(args) -> int:
    from linkops_lab import brokers
    from linkops_lab.lab import Lab, LabError, rest_tls_choice
    workdir = _dir(args)
    kind = brokers.resolve(args.brokers, default=brokers.UP_DEFAULT_KIND)
    tls = rest_tls_choice(kind, args.rest_tls, args.rest_mtls)
    if (workdir / "lab.json").exists():
        try:
            lab = Lab.attach(workdir)
            procs = lab.processes()
            if procs and all(p["alive"] for p in procs.values()):
                explicit = args.brokers or os.environ.get(brokers.ENV)
                if explicit and lab.kind != kind:
                    raise LabError(f"a lab with {lab.kind} brokers is up in {workdir}, not "
                                   f"{kind}: labctl.py down first (its data is lost), then up")
                tls_asked = (args.rest_tls is not None or args.rest_mtls
                             or os.environ.get("LAB_REST_TLS") or os.environ.get("LAB_REST_MTLS"))
                if tls_asked and (lab.rest_tls, lab.rest_mtls) != tls:
                    raise LabError(f"the lab up in {workdir} serves its REST over "
                                   f"{_rest_mode(lab.rest_tls, lab.rest_mtls)}, not "
                                   f"{_rest_mode(*tls)}: labctl.py down first, then up")
                health = lab.health()
                if all(v == "ok" for v in health.values()):
                    print(f"lab already up and healthy in {workdir}")
                    _summary(lab)
                    return 0
                raise LabError(f"lab in {workdir} is running but unhealthy: {health}; "
                               "run labctl.py down, then up")
            if any(p["alive"] for p in procs.values()):
                print("lab partly running: stopping the leftovers first", file=sys.stderr)
            lab.stop()
        except LabError as exc:
            if "unhealthy" in str(exc) or "labctl.py down first" in str(exc):
                raise
    lab = Lab.start(workdir, keep_data=args.keep_data, die_with_parent=False, kind=kind,
                    rest_tls=tls[0], rest_mtls=tls[1])
    print(f"lab up in {workdir}")
    _summary(lab)
    return 0


def _rest_mode(tls: bool, mtls: bool) -> str:
    return "HTTPS with client certificates" if mtls else "HTTPS" if tls else "http"


def _summary(lab) -> None:
    i = lab.info
    print(f"  brokers: {lab.kind}")
    print(f"  REST (Kafka REST v3, {_rest_mode(lab.rest_tls, lab.rest_mtls)}), user "
          f"{i['rest_username']} (password in {lab.workdir / 'lab.json'}):")
    print(f"    destination  {lab.destination_rest_url}/v3/clusters/{i['destination_cluster_id']}")
    if lab.source_rest_url:
        print(f"    source       {lab.source_rest_url}/v3/clusters/{i['source_cluster_id']}")
    if lab.rest_tls:
        print(f"    CA (ca_path) {lab.rest_ca_path}")
    if lab.rest_mtls:
        print(f"    client_cert  {lab.rest_client_cert}\n    client_key   {lab.rest_client_key}")
    for role in ("source", "destination"):
        ext = " (external)" if i.get("external", {}).get(role) else ""
        print(f"  {role:<12} {i[role + '_bootstrap']:<22} cluster id {i[role + '_cluster_id']}{ext}")
    if lab.kind == "apache-kafka":
        print("  clients: SASL_SSL (PLAIN, SCRAM-SHA-512), CA "
              f"{i.get('ca_file')}; users admin and link (passwords in lab.json)")
    else:
        print(f"  client config: {json.dumps(i['client_config'])}")
    print(f"  logs: {', '.join(sorted(i.get('logs', {}).values()))}")


def cmd_down(args) -> int:
    from linkops_lab import jump_host
    from linkops_lab.lab import Lab, LabError
    if jump_host.stop(_dir(args)):
        print("jump host stopped")
    try:
        lab = Lab.attach(_dir(args))
    except LabError:
        print(f"no lab in {_dir(args)}")
        return 0
    lab.stop()
    left = [n for n, p in lab.processes().items() if p["alive"]]
    (lab.workdir / "lab.json").unlink(missing_ok=True)
    print(f"lab down ({_dir(args)})")
    return 1 if left else 0


def cmd_status(args) -> int:
    from linkops_lab.lab import Lab
    lab = Lab.attach(_dir(args))
    procs = lab.processes()
    for name, p in sorted(procs.items()):
        print(f"  {name:<20} pid {p['pid']:<8} {'running' if p['alive'] else 'NOT RUNNING'}")
    health = lab.health()
    for comp, state in health.items():
        print(f"  {comp:<20} {state}")
    ok = all(v == "ok" for v in health.values())
    if ok:
        _summary(lab)
    print("lab is up" if ok else "lab is NOT healthy")
    return 0 if ok else 1


def cmd_env(args) -> int:
    from linkops_lab.lab import Lab
    lab = Lab.attach(_dir(args))
    i = lab.info
    values = {
        "LAB_DIR": str(lab.workdir),
        "LAB_REST_URL": i["rest_url"],
        "LAB_DESTINATION_REST_URL": lab.destination_rest_url,
        "LAB_SOURCE_REST_URL": lab.source_rest_url or "",
        "LAB_REST_USERNAME": i["rest_username"],
        "LAB_REST_PASSWORD": i["rest_password"],
        "LAB_SOURCE_BOOTSTRAP": i["source_bootstrap"],
        "LAB_DESTINATION_BOOTSTRAP": i["destination_bootstrap"],
        "LAB_SOURCE_CLUSTER_ID": i["source_cluster_id"],
        "LAB_DESTINATION_CLUSTER_ID": i["destination_cluster_id"],
        "LAB_CLIENT_CONFIG": json.dumps(i["client_config"]),
        # over HTTPS: the CA of the REST certificate and, with mTLS, the client certificate and key
        "LAB_REST_CA_PATH": lab.rest_ca_path or "",
        "LAB_REST_CLIENT_CERT": lab.rest_client_cert or "",
        "LAB_REST_CLIENT_KEY": lab.rest_client_key or "",
    }
    for k, v in values.items():
        print(f"export {k}={shlex.quote(v)}")
    return 0


def _lab(args):
    from linkops_lab.lab import Lab
    return Lab.attach(_dir(args))


def cmd_create_topic(args) -> int:
    lab = _lab(args)
    config = dict(kv.split("=", 1) for kv in args.config) if args.config else None
    lab.create_topic(args.cluster, args.topic, args.partitions, config)
    print(f"created topic {args.topic} ({args.partitions} partitions) on {args.cluster}")
    return 0


def cmd_produce(args) -> int:
    lab = _lab(args)
    if args.count is not None:
        result = lab.produce_bench(args.cluster, args.topic, args.count, args.size)
        print(json.dumps(result) if args.json else
              f"produced {result['records']} records of {args.size} bytes to {args.topic} in "
              f"{result['seconds']}s ({result['records_per_second']}/s)")
        return 0
    if args.values is None:
        raise SystemExit("produce needs --values or --count")
    headers = dict(h.split("=", 1) for h in args.header) if args.header else None
    records = [{"value": v, "key": args.key, "partition": args.partition, "headers": headers}
               for v in args.values.split(",")]
    n = lab.produce(args.cluster, args.topic, records)
    print(json.dumps({"records": n}) if args.json else f"produced {n} records to {args.topic}")
    return 0


def cmd_consume(args) -> int:
    lab = _lab(args)
    records = lab.consume(args.cluster, args.topic, group=args.group, commit=args.commit,
                          max_records=args.max, timeout=args.timeout)
    if args.json:
        print(json.dumps(records))
    else:
        for r in records:
            print(f"{r['partition']}:{r['offset']} key={r['key']} value={r['value']}")
    return 0


def cmd_group_offsets(args) -> int:
    lab = _lab(args)
    offsets = lab.group_offsets(args.cluster, args.group)
    if args.json:
        print(json.dumps({t: {str(p): o for p, o in parts.items()} for t, parts in offsets.items()}))
    else:
        for t, parts in sorted(offsets.items()):
            for p, o in sorted(parts.items()):
                print(f"{t}:{p} {o}")
    return 0


def cmd_knobs(args) -> int:
    lab = _lab(args)
    changes = {}
    for kv in args.set:
        k, _, v = kv.partition("=")
        changes[k] = json.loads(v) if v in ("true", "false") or v.lstrip("-").isdigit() else v
    print(json.dumps(lab.knobs(**changes), indent=1))
    return 0


def cmd_stop_broker(args) -> int:
    lab = _lab(args)
    stopped = lab.stop_broker(args.cluster)
    print(f"{args.cluster} broker stopped ({lab.bootstrap(args.cluster)}); data kept in "
          f"{lab.broker_data_path(args.cluster)}" if stopped else
          f"{args.cluster} broker was not running")
    return 0


def cmd_start_broker(args) -> int:
    lab = _lab(args)
    started = lab.start_broker(args.cluster)
    print(f"{args.cluster} broker started on {lab.bootstrap(args.cluster)}" if started else
          f"{args.cluster} broker is already running on {lab.bootstrap(args.cluster)}")
    return 0


def cmd_serve_emulator(args) -> int:
    from linkops_lab.emulator import server
    return server.serve(args.config)


def cmd_install_tools(args) -> int:
    from linkops_lab.cptools.install import main_install  # the lab's CP tools (docs/lab.md, "CP tools")
    return main_install(args.bin, args.force)


def cmd_fetch(args) -> int:
    from linkops_lab.brokers import apache_kafka  # the jars of the apache-kafka kind and its tools
    return apache_kafka.main(["fetch"])


def cmd_jump_host(args) -> int:
    from linkops_lab import jump_host
    if args.action == "down":
        print("jump host stopped" if jump_host.stop(_dir(args)) else f"no jump host in {_dir(args)}")
        return 0
    jump = jump_host.start(_dir(args)) if args.action == "up" else jump_host.attach(_dir(args))
    if jump is None or not jump.alive():
        print(f"no jump host running in {_dir(args)}")
        return 1
    i = jump.info
    print(f"jump host: ssh -p {i['port']} -i {i['client_key']} -o UserKnownHostsFile={i['known_hosts']} "
          f"{i['user']}@{i['host']} (sshd pid {i['pid']})")
    print(f"  python {i['python']} (confluent-kafka); CP tools {i['bin']} (each run logged in cptools.log there)")
    print("  inventory variables of a link run from it:")
    for key, value in jump.ansible_vars().items():
        print(f"    {key}: {json.dumps(value)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="labctl.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    def add(name, fn, help_text, cluster=False):
        sp = sub.add_parser(name, help=help_text)
        sp.add_argument("--dir", default=os.environ.get("LAB_DIR", ".lab"),
                        help="lab working directory (default: .lab, or $LAB_DIR)")
        if cluster:
            sp.add_argument("--cluster", choices=("source", "destination"), required=True)
        sp.set_defaults(func=fn)
        return sp

    sp = add("up", cmd_up, "start the lab (idempotent)")
    sp.add_argument("--keep-data", action="store_true",
                    help="reuse broker data and emulator state from the previous run")
    sp.add_argument("--brokers", metavar="KIND", default=None,
                    help="broker kind: apache-kafka (Apache Kafka 4.x, SASL_SSL and ACLs, HTTPS REST; "
                    "needs Java 17+) or noida (the lighter noida-db Kafka service, plaintext, no Java); "
                    "default $LAB_BROKERS, else apache-kafka")
    sp.add_argument("--rest-tls", action=argparse.BooleanOptionalAction, default=None,
                    help="serve the REST over HTTPS with a certificate of the lab CA (lab.json: "
                    "rest_ca_path); default $LAB_REST_TLS, else HTTPS with apache-kafka brokers "
                    "and http with noida")
    sp.add_argument("--rest-mtls", action="store_true", default=None,
                    help="HTTPS REST that requires a client certificate of the lab CA (lab.json: "
                    "rest_client_cert, rest_client_key); default $LAB_REST_MTLS")
    add("down", cmd_down, "stop everything the lab started")
    add("status", cmd_status, "show processes and health")
    add("env", cmd_env, "print shell export lines (LAB_*)")
    sp = add("create-topic", cmd_create_topic, "create a topic", cluster=True)
    sp.add_argument("--topic", required=True)
    sp.add_argument("--partitions", type=int, default=1)
    sp.add_argument("--config", action="append", metavar="NAME=VALUE")
    sp = add("produce", cmd_produce, "produce records", cluster=True)
    sp.add_argument("--topic", required=True)
    sp.add_argument("--values", help="comma-separated values, one record each")
    sp.add_argument("--key")
    sp.add_argument("--partition", type=int)
    sp.add_argument("--header", action="append", metavar="NAME=VALUE")
    sp.add_argument("--count", type=int, help="benchmark: number of records")
    sp.add_argument("--size", type=int, default=1024, help="benchmark: value size in bytes")
    sp.add_argument("--json", action="store_true")
    sp = add("consume", cmd_consume, "read a topic to its end", cluster=True)
    sp.add_argument("--topic", required=True)
    sp.add_argument("--group")
    sp.add_argument("--commit", action="store_true", help="commit the group's offsets after reading")
    sp.add_argument("--max", type=int)
    sp.add_argument("--timeout", type=float, default=30.0)
    sp.add_argument("--json", action="store_true")
    sp = add("group-offsets", cmd_group_offsets, "committed offsets of a group", cluster=True)
    sp.add_argument("--group", required=True)
    sp.add_argument("--json", action="store_true")
    sp = add("knobs", cmd_knobs, "show or set emulator knobs (name=value ...)")
    sp.add_argument("set", nargs="*")
    add("stop-broker", cmd_stop_broker, "stop a lab broker (fault tests; data is kept)", cluster=True)
    add("start-broker", cmd_start_broker, "start a stopped lab broker again on its port", cluster=True)
    sp = add("jump-host", cmd_jump_host, "an SSH jump host for the lab (needs openssh-server; docs/lab.md)")
    sp.add_argument("action", choices=("up", "down", "status"))
    sp = sub.add_parser("serve-emulator", help="run the emulator in the foreground (used by up)")
    sp.add_argument("--config", required=True)
    sp.set_defaults(func=cmd_serve_emulator)
    sp = sub.add_parser("install-tools", help="write the lab's tool executables "
                        "(kafka-cluster-links, kafka-mirrors, kafka-configs; kafka-topics, "
                        "kafka-console-producer/-consumer, kafka-consumer-groups, kafka-acls)")
    sp.add_argument("--bin", help="directory for them (default: the directory of this python, "
                    "i.e. .venv/bin)")
    sp.add_argument("--force", action="store_true",
                    help="overwrite files of those names that are not lab wrappers")
    sp.set_defaults(func=cmd_install_tools)
    sp = sub.add_parser("fetch", help="fetch the Apache Kafka jars (apache-kafka brokers, the Apache "
                        "tools) into the per-machine cache and make the CDS archive; once per machine")
    sp.set_defaults(func=cmd_fetch)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one line, no traceback
        if os.environ.get("LAB_DEBUG"):
            raise
        msg = " ".join(str(exc).split()) or type(exc).__name__
        print(f"labctl {args.command}: error: {msg}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
