"""``kafka-configs`` for the linkops lab, cluster links only:
``--describe`` / ``--alter`` of ``--cluster-link L`` (or ``--entity-type
cluster-links --entity-name L``) through the lab's Kafka REST v3 emulator.

    Dynamic configs for cluster-link L are:
      name=value sensitive=false synonyms={}
      sasl.jaas.config=null sensitive=true synonyms={}
    Completed updating config for cluster-link L.

Errors go to stderr as Apache Kafka's ConfigCommand prints them: argument
errors as one line (usage problems with the option table), server errors as
``Error while executing config command with args '...'`` (secret values
hidden) followed by the server's message; exit 1.
"""

from __future__ import annotations

import sys

from linkops_lab.cptools.broker_auth import authenticate
from linkops_lab.cptools.common import (
    COMMON_OPTS, Opt, OptionParser, Parsed, RestClient, check_invalid_with, err, is_secret_key,
    load_command_config, load_lab, out, require_one_action, run_tool, scrub)
from linkops_lab.cptools.errors import CommandError, RestError, UsageError
from linkops_lab.cptools.properties import load_properties, parse_config_list

TOOL = "kafka-configs"
HEADER = ("This tool helps to manipulate and describe entity config for a cluster link. (linkops "
          "lab emulation of the Confluent Platform tool: only cluster links, through the lab's "
          "Kafka REST v3 emulator.)")
ENTITY = "cluster-links"
FOREIGN = ["topic", "broker", "broker-logger", "broker-defaults", "user", "client", "ip", "group",
           "client-metrics", "entity-default", "bootstrap-controller", "zookeeper"]

OPTS = COMMON_OPTS + [
    Opt("describe", "List configs for the given cluster link."),
    Opt("alter", "Alter the configuration of the cluster link."),
    Opt("cluster-link", "The cluster link's name.", arg="cluster link name"),
    Opt("entity-type", "Type of entity: only cluster-links in the lab.", arg="entity-type"),
    Opt("entity-name", "Name of entity (the cluster link).", arg="entity-name"),
    Opt("add-config", "Key Value pairs of configs to add. Square brackets can be used to group "
        "values which contain commas: 'k1=v1,k2=[v1,v2,v2],k3=v3'.", arg="key=value,..."),
    Opt("add-config-file", "Path to a properties file with configs to add.", arg="file"),
    Opt("delete-config", "config keys to remove 'k1,k2'", arg="key1,key2", multi=True),
    Opt("all", "List all configs for the given cluster link, including defaults."),
] + [Opt(name, "Not handled by the lab's kafka-configs (cluster links only).",
         arg=None if name == "entity-default" else name, hidden=True) for name in FOREIGN]


class ArgumentProblem(CommandError):
    """Apache ConfigCommand's IllegalArgumentException: the message alone on stderr."""


def _fail(message: str) -> None:
    err(message)


def _only_cluster_links(what: str) -> ArgumentProblem:
    return ArgumentProblem(
        f"The linkops lab's kafka-configs handles only cluster links (--cluster-link L, or "
        f"--entity-type cluster-links --entity-name L); {what} is not supported here. Use "
        f"Apache Kafka's kafka-configs against a real cluster for other entities.")


def _entity(p: Parsed) -> str | None:
    for name in FOREIGN:
        if p.has(name):
            raise _only_cluster_links(f"--{name}")
    etype = p.value("entity-type")
    if etype is not None and etype not in (ENTITY, "cluster-link"):
        raise _only_cluster_links(f"--entity-type {etype}")
    link = p.value("cluster-link")
    ename = p.value("entity-name")
    if link is None and etype is None:
        raise ArgumentProblem("Missing the entity: give --cluster-link L (or --entity-type "
                              "cluster-links --entity-name L).")
    if link is not None and ename is not None and link != ename:
        raise ArgumentProblem(f"--cluster-link {link} and --entity-name {ename} name different "
                              "cluster links; give one of them.")
    if ename is not None and etype is None:
        raise ArgumentProblem("--entity-name needs --entity-type cluster-links.")
    return link if link is not None else ename


def _check_args(p: Parsed) -> tuple[str, str | None]:
    action = require_one_action(p, ["describe", "alter"],
                                "Command must include exactly one action: --describe, --alter")
    check_invalid_with(p, "describe", ["alter", "add-config", "add-config-file", "delete-config"])
    check_invalid_with(p, "alter", ["all"])
    if not p.has("bootstrap-server"):
        raise UsageError('Missing required argument "[bootstrap-server]"')
    name = _entity(p)
    if p.has("add-config") and p.has("add-config-file"):
        raise ArgumentProblem("Only one of --add-config or --add-config-file must be specified")
    if action == "alter":
        if not (p.has("add-config") or p.has("add-config-file") or p.has("delete-config")):
            raise ArgumentProblem("At least one of --add-config, --add-config-file, or "
                                  "--delete-config must be specified with --alter")
        if name is None:
            raise ArgumentProblem("an entity name must be specified with --alter of cluster-links")
    return action, name


def _sensitive(c: dict) -> bool:
    return bool(c.get("is_sensitive", c.get("sensitive", False)))


def _describe(p: Parsed, name: str | None, rest: RestClient) -> int:
    names = [name] if name is not None else sorted(
        lk.get("link_name") for lk in (rest.call("GET", "/links") or {}).get("data") or [])
    for lname in names:
        configs = (rest.call("GET", f"/links/{lname}/configs") or {}).get("data") or []
        if not p.has("all"):
            configs = [c for c in configs if c.get("source") == "DYNAMIC_CLUSTER_LINK_CONFIG"]
        out(f"{'All' if p.has('all') else 'Dynamic'} configs for cluster-link {lname} are:")
        for c in sorted(configs, key=lambda c: c.get("name") or ""):
            sensitive = _sensitive(c)
            value = "null" if sensitive or c.get("value") is None else c.get("value")
            synonyms = ", ".join(str(s) for s in c.get("synonyms") or [])
            out(f"  {c.get('name')}={value} sensitive={'true' if sensitive else 'false'} "
                f"synonyms={{{synonyms}}}")
    return 0


def _alter(p: Parsed, name: str, rest: RestClient) -> int:
    if p.has("add-config"):
        to_add = parse_config_list(p.value("add-config"))
    elif p.has("add-config-file"):
        to_add = load_properties(p.value("add-config-file"), "add-config-file")
    else:
        to_add = {}
    to_delete = [k.strip() for k in p.list("delete-config") if k.strip()]
    if to_delete:
        current = (rest.call("GET", f"/links/{name}/configs") or {}).get("data") or []
        dynamic = {c.get("name") for c in current
                   if c.get("source") == "DYNAMIC_CLUSTER_LINK_CONFIG"}
        invalid = [k for k in to_delete if k not in dynamic]
        if invalid:
            raise ArgumentProblem(f"Invalid config(s): {','.join(invalid)}")
    data = [{"name": k, "value": v, "operation": "SET"} for k, v in to_add.items()]
    data += [{"name": k, "operation": "DELETE"} for k in to_delete]
    rest.call("PUT", f"/links/{name}/configs:alter", {"data": data})
    out(f"Completed updating config for cluster-link {name}.")
    return 0


def _run(p: Parsed, argv: list[str]) -> int:
    action, name = _check_args(p)
    props = load_command_config(p)
    lab = load_lab()
    cluster = lab.resolve(p.value("bootstrap-server"))
    authenticate(props, cluster.bootstrap, lab.info)
    rest = RestClient(cluster)
    try:
        if action == "describe":
            return _describe(p, name, rest)
        return _alter(p, name, rest)
    except RestError as exc:
        added = {}
        if p.has("add-config"):
            added = parse_config_list(p.value("add-config"))
        elif p.has("add-config-file"):
            added = load_properties(p.value("add-config-file"), "add-config-file")
        secrets = [v for k, v in added.items() if is_secret_key(k)]
        args = scrub(" ".join(argv), [f"[{v}]" for v in secrets] + secrets, min_len=1)
        raise CommandError(f"Error while executing config command with args '{args}'\n"
                           f"{scrub(exc.message, secrets)}") from None


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    return run_tool(TOOL, OptionParser(OPTS), HEADER, lambda p: _run(p, argv), argv, _fail)


if __name__ == "__main__":
    sys.exit(main())
