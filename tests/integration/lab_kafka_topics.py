"""A stand-in for Apache Kafka's ``kafka-topics`` against the lab, for the CLI backend tests.

The lab's CP tools (tests/lab/linkops_lab/cptools, installed by ``labctl.py install-tools``) have no
``kafka-topics``; the CLI backend needs it for ``--list`` (topics that would clash with new
mirrors) and ``--delete --topic`` (a mirror topic is removed by deleting its topic). The
integration harness puts this on PATH only while .venv/bin has no ``kafka-topics``.

Like Apache's tool: ``--bootstrap-server`` and ``--command-config``; ``--list`` prints one name a
line, sorted; ``--topic`` is a regular expression that must match whole names;
``--delete`` of a name that matches nothing prints
``Error while executing topic command : Topic 'X' does not exist as expected`` (exit 1).
It reads and deletes topics through the lab emulator's Kafka REST v3 (GET/DELETE /topics).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lab"))   # a script: linkops_lab is not installed

from linkops_lab.cptools.common import (  # noqa: E402
    COMMON_OPTS, Opt, OptionParser, RestClient, load_command_config, load_lab, out,
    require_one_action, run_tool)
from linkops_lab.cptools.errors import CommandError, RestError, UsageError  # noqa: E402

TOOL = "kafka-topics"
HEADER = "This tool helps to list and delete topics (linkops integration-test stand-in for the lab)."
OPTS = COMMON_OPTS + [
    Opt("list", "List all available topics."),
    Opt("delete", "Delete a topic."),
    Opt("topic", "The topic to delete: a regular expression matching whole names.", arg="topic"),
    Opt("exclude-internal", "Exclude internal topics when listing."),
    Opt("if-exists", "Only delete the topic if it exists."),
]


def _fail(message: str) -> None:
    out(f"Error while executing topic command : {message}")


def _run(p) -> int:
    action = require_one_action(p, ["list", "delete"], "Command must include exactly one action: --list, --delete")
    if not p.has("bootstrap-server"):
        raise UsageError("Missing required argument \"[bootstrap-server]\"")
    if action == "delete" and not p.has("topic"):
        raise UsageError("Missing required argument \"[topic]\"")
    load_command_config(p)
    rest = RestClient(load_lab().resolve(p.value("bootstrap-server")))
    topics = sorted(t.get("topic_name") for t in (rest.call("GET", "/topics") or {}).get("data") or [])
    if action == "list":
        for name in topics:
            if not (p.has("exclude-internal") and name.startswith("_")):
                out(name)
        return 0
    pattern = re.compile(p.value("topic"))
    matched = [t for t in topics if pattern.fullmatch(t)]
    if not matched:
        if p.has("if-exists"):
            return 0
        raise CommandError(f"Topic '{p.value('topic')}' does not exist as expected")
    for name in matched:
        try:
            rest.call("DELETE", f"/topics/{name}")
        except RestError as exc:
            raise CommandError(exc.message) from None
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_tool(TOOL, OptionParser(OPTS), HEADER, _run, argv, _fail)


if __name__ == "__main__":
    sys.exit(main())
