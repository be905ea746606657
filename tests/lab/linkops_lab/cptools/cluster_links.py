"""``kafka-cluster-links`` for the linkops lab: create, list, describe and
delete cluster links through the lab's Kafka REST v3 emulator.

Printed lines (stdout), as the Confluent Platform tool prints them:

    Cluster link 'L' creation successfully completed.      (validated with --validate-only)
    Cluster link 'L' deletion successfully completed.      (validated with --validate-only)
    Link name: 'L', link ID: 'ID', remote cluster ID: 'R', local cluster ID: 'C', remote cluster available: 'true', link state: 'ACTIVE'[, topics: [a, b]]
    No cluster links found.  /  Link name 'L' not found.
    Link name: 'L', link ID: ..., link mode: 'DESTINATION', connection mode: 'OUTBOUND', link state: 'ACTIVE', link coordinator id: 'N', link coordinator host: 'H', topics: [...]
    Configs: k=v,k=v
    Error while executing cluster link command: <message>          (exit 1)

Usage errors go to stderr with the option table (exit 1).
"""

from __future__ import annotations

import json
import sys

from linkops_lab.cptools.broker_auth import authenticate
from linkops_lab.cptools.common import (
    COMMON_OPTS, Opt, OptionParser, Parsed, RestClient, check_invalid_with, is_secret_key,
    java_list, load_command_config, load_lab, out, require_one_action, run_tool, scrub)
from linkops_lab.cptools.errors import CommandError, RestError, UsageError
from linkops_lab.cptools.properties import load_properties, parse_config_list, read_text_file

TOOL = "kafka-cluster-links"
HEADER = ("This tool creates, lists, describes and deletes cluster links. (linkops lab emulation "
          "of the Confluent Platform tool: it talks to the lab's Kafka REST v3 emulator.)")

OPTS = COMMON_OPTS + [
    Opt("create", "Creates a new cluster link."),
    Opt("list", "Lists all available cluster links."),
    Opt("delete", "Deletes a cluster link."),
    Opt("describe", "Describes a cluster link (all links without --link)."),
    Opt("link", "The name of the cluster link.", arg="link name"),
    Opt("link-name", "The name of the cluster link (older spelling of --link).", arg="link name"),
    Opt("cluster-id", "The cluster ID of the linked (remote) cluster. Without it the lab reads it "
        "from lab.json for the bootstrap.servers of the link.", arg="cluster ID"),
    Opt("config", "Configs of the new cluster link: key=value,... (commas inside [] do not "
        "split; [ and ] are removed).", arg="key=value,..."),
    Opt("config-file", "Property file containing configs to be used for the created cluster "
        "link.", arg="file"),
    Opt("topic-filters-json-file", "JSON file of topic filters ({\"topicFilters\": [...]}) for "
        "auto.create.mirror.topics.filters; also sets auto.create.mirror.topics.enable=true.",
        arg="path to topic filters JSON file"),
    Opt("consumer-group-filters-json-file", "JSON file of consumer group filters "
        "({\"groupFilters\": [...]}) for consumer.offset.group.filters; also sets "
        "consumer.offset.sync.enable=true.", arg="path to Consumer Group filters JSON file"),
    Opt("consumer-group-filters-json", "Consumer group filters JSON (instead of the file).",
        arg="JSON of Consumer Group filters"),
    Opt("acl-filters-json-file", "JSON file of ACL filters ({\"aclFilters\": [...]}) for "
        "acl.filters; also sets acl.sync.enable=true.", arg="path to ACL filters JSON file"),
    Opt("acl-filters-json", "ACL filters JSON (instead of the file).", arg="JSON of ACL filters"),
    Opt("include-topics", "If set, then when listing cluster links, include the topics that are "
        "linked."),
    Opt("force", "When deleting a link, force its deletion even if there's outstanding references "
        "(e.g. topic mirrors) to the link."),
    Opt("validate-only", "Whether to only validate the action but not apply it."),
    Opt("exclude-validate-link", "If set, then when creating a link, do not attempt to validate "
        "the link with the link's cluster."),
]

# (enable config, filters config, file option, inline option, JSON top-level key, label)
FILTERS = [
    ("auto.create.mirror.topics.enable", "auto.create.mirror.topics.filters",
     "topic-filters-json-file", None, "topicFilters", "topic filters"),
    ("consumer.offset.sync.enable", "consumer.offset.group.filters",
     "consumer-group-filters-json-file", "consumer-group-filters-json", "groupFilters",
     "consumer group filters"),
    ("acl.sync.enable", "acl.filters", "acl-filters-json-file", "acl-filters-json", "aclFilters",
     "acl filters"),
]
FILTER_OPTS = [o for f in FILTERS for o in (f[2], f[3]) if o]

ID_FIELD = {"DESTINATION": "source_cluster_id", "SOURCE": "destination_cluster_id",
            "BIDIRECTIONAL": "remote_cluster_id"}


def _fail(message: str) -> None:
    out(f"Error while executing cluster link command: {message}")


def _check_args(p: Parsed) -> str:
    for opt in FILTER_OPTS:
        check_invalid_with(p, opt, ["list", "delete", "describe", "force"], quote="'")
    if not p.has("bootstrap-server"):
        raise UsageError("Missing required argument '[bootstrap-server]'")
    action = require_one_action(p, ["create", "list", "delete", "describe"],
                                "Command must include exactly one action: --create, --list, "
                                "--delete, or --describe.")
    if p.has("link") and p.has("link-name") and p.value("link") != p.value("link-name"):
        raise UsageError("Options '[link]' and '[link-name]' name the same link: give one of them")
    if action == "create" and sum(p.has(o) for o in ("config", "config-file")) != 1:
        raise UsageError("Command must include required configs for cluster link creation: "
                         "exactly one of --config-file or --config.")
    if action in ("create", "delete") and not (p.has("link") or p.has("link-name")):
        raise UsageError("Missing required argument '[link]'")
    check_invalid_with(p, "create", ["force", "include-topics"], quote="'")
    check_invalid_with(p, "list", ["cluster-id", "config", "config-file", "force",
                                   "exclude-validate-link", "validate-only"], quote="'")
    check_invalid_with(p, "delete", ["cluster-id", "config", "config-file",
                                     "exclude-validate-link", "include-topics"], quote="'")
    check_invalid_with(p, "describe", ["cluster-id", "config", "config-file", "force",
                                       "exclude-validate-link", "validate-only",
                                       "include-topics"], quote="'")
    return action


def _link_name(p: Parsed) -> str | None:
    return p.value("link") or p.value("link-name")


def _filters_into(p: Parsed, configs: dict[str, str]) -> None:
    """The filter JSON options become link configs, as the CP tool does."""
    for enable_key, filters_key, file_opt, inline_opt, top_key, label in FILTERS:
        text = None
        if inline_opt and p.has(file_opt) and p.has(inline_opt):
            raise UsageError(f"Only one of --{file_opt} and --{inline_opt} may be given.")
        if p.has(file_opt):
            text = read_text_file(p.value(file_opt), file_opt).strip()
        elif inline_opt and p.has(inline_opt):
            text = p.value(inline_opt).strip()
        enabled = (configs.get(enable_key) or "").strip().lower()
        if text is None:
            if enabled == "true":
                raise UsageError(
                    f"{enable_key} is set to true but the {label} JSON is not passed in. Please "
                    f"pass in the path to the JSON file using the --{file_opt} option and rerun "
                    f"the create link command.")
            continue
        given = f"--{file_opt}" if p.has(file_opt) else f"--{inline_opt}"
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise UsageError(f"The {label} JSON passed with {given} is not valid JSON ({exc}). "
                             f"Please put valid JSON in it and rerun the create link command.") from None
        if not isinstance(doc, dict) or not isinstance(doc.get(top_key), list):
            raise UsageError(f"The {label} JSON passed with {given} has invalid values: it must "
                             f"be an object with a '{top_key}' list. Please put valid values in it "
                             f"and rerun the create link command.")
        configs[filters_key] = text
        if enabled != "false":  # an explicit false in the configs stays: filters kept, sync off
            configs[enable_key] = "true"


def _create(p: Parsed, lab, cluster, rest: RestClient) -> int:
    name = _link_name(p)
    if p.has("config"):
        configs = parse_config_list(p.value("config"))
    else:
        configs = load_properties(p.value("config-file"), "config-file")
    _filters_into(p, configs)
    mode = (configs.get("link.mode") or "DESTINATION").strip().upper()
    id_field = ID_FIELD.get(mode, "source_cluster_id")
    remote_id = p.value("cluster-id")
    if not remote_id:
        bootstrap = configs.get("bootstrap.servers")
        remote = lab.find(bootstrap) if bootstrap else None
        if remote is None:
            why = ("the link configs have no bootstrap.servers" if not bootstrap else
                   f"'{bootstrap}' is not a bootstrap server of the lab in {lab.dir} (its "
                   f"clusters are {lab.describe_clusters()})")
            raise CommandError(f"Unable to determine the remote cluster ID of cluster link "
                               f"'{name}': {why}; pass --cluster-id.")
        remote_id = remote.cluster_id
    body = {id_field: remote_id,
            "configs": [{"name": k, "value": v} for k, v in configs.items()]}
    params = {"link_name": name, "validate_only": p.has("validate-only"),
              "validate_link": not p.has("exclude-validate-link")}
    secrets = [v for k, v in configs.items() if is_secret_key(k)]
    try:
        rest.call("POST", "/links", body, params)
    except RestError as exc:
        raise CommandError(scrub(exc.message, secrets)) from None
    action = "validated" if p.has("validate-only") else "completed"
    out(f"Cluster link '{name}' creation successfully {action}.")
    return 0


def _remote_id(link: dict, local_id: str) -> str:
    ids = [link.get(k) for k in ("remote_cluster_id", "source_cluster_id", "destination_cluster_id")]
    ids = [i for i in ids if i]
    others = [i for i in ids if i != local_id]
    return (others or ids or [""])[0]


def _topics(link: dict) -> list[str]:
    return list(link.get("topic_names") or link.get("topics_names") or [])


def _link_id(link: dict) -> str:
    return link.get("cluster_link_id") or link.get("link_id") or ""


def _list(p: Parsed, cluster, rest: RestClient) -> int:
    name = _link_name(p)
    links = (rest.call("GET", "/links") or {}).get("data") or []
    if name is not None:
        links = [lk for lk in links if lk.get("link_name") == name]
    if not links:
        out(f"Link name '{name}' not found." if name is not None else "No cluster links found.")
        return 0
    for lk in links:
        state = lk.get("link_state") or "UNKNOWN"
        line = (f"Link name: '{lk.get('link_name')}', link ID: '{_link_id(lk)}', remote cluster ID: "
                f"'{_remote_id(lk, cluster.cluster_id)}', local cluster ID: '{cluster.cluster_id}', "
                f"remote cluster available: '{'false' if state == 'UNAVAILABLE' else 'true'}', "
                f"link state: '{state}'")
        if p.has("include-topics"):
            line += f", topics: {java_list(_topics(lk))}"
        out(line)
    return 0


def _delete(p: Parsed, rest: RestClient) -> int:
    name = _link_name(p)
    rest.call("DELETE", f"/links/{name}", params={"force": p.has("force"),
                                                  "validate_only": p.has("validate-only")})
    action = "validated" if p.has("validate-only") else "completed"
    out(f"Cluster link '{name}' deletion successfully {action}.")
    return 0


def _describe(p: Parsed, cluster, rest: RestClient) -> int:
    name = _link_name(p)
    if name is not None:
        links = [rest.call("GET", f"/links/{name}")]
    else:
        links = (rest.call("GET", "/links") or {}).get("data") or []
        if not links:
            out("No cluster links found.")
            return 0
    controller = ((rest.call("GET", "") or {}).get("controller") or {}).get("related") or ""
    coordinator_id = controller.rstrip("/").rsplit("/", 1)[-1] if controller else "-1"
    coordinator_host = cluster.bootstrap.split(",")[0].rsplit(":", 1)[0]
    for lk in links:
        lname = lk.get("link_name")
        configs = (rest.call("GET", f"/links/{lname}/configs") or {}).get("data") or []
        by_name = {c.get("name"): c for c in configs}

        def value(key: str, default: str) -> str:
            c = by_name.get(key)
            return (c.get("value") if c and c.get("value") is not None else default)
        state = lk.get("link_state") or "UNKNOWN"
        out(f"Link name: '{lname}', link ID: '{_link_id(lk)}', remote cluster ID: "
            f"'{_remote_id(lk, cluster.cluster_id)}', local cluster ID: '{cluster.cluster_id}', "
            f"link mode: '{value('link.mode', 'DESTINATION').upper()}', connection mode: "
            f"'{value('connection.mode', 'OUTBOUND').upper()}', link state: '{state}', "
            f"link coordinator id: '{coordinator_id}', link coordinator host: "
            f"'{coordinator_host}', topics: {java_list(_topics(lk))}")
        dynamic = sorted((c for c in configs if c.get("source") == "DYNAMIC_CLUSTER_LINK_CONFIG"),
                         key=lambda c: c.get("name") or "")
        out("Configs: " + ",".join(
            f"{c.get('name')}={'null' if c.get('value') is None else c.get('value')}"
            for c in dynamic))
    return 0


def _run(p: Parsed) -> int:
    action = _check_args(p)
    props = load_command_config(p)
    lab = load_lab()
    cluster = lab.resolve(p.value("bootstrap-server"))
    authenticate(props, cluster.bootstrap, lab.info)
    rest = RestClient(cluster)
    if action == "create":
        return _create(p, lab, cluster, rest)
    if action == "list":
        return _list(p, cluster, rest)
    if action == "delete":
        return _delete(p, rest)
    return _describe(p, cluster, rest)


def main(argv: list[str] | None = None) -> int:
    return run_tool(TOOL, OptionParser(OPTS), HEADER, _run, argv, _fail)


if __name__ == "__main__":
    sys.exit(main())
