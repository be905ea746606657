"""The real Apache Kafka command-line tools in the lab's virtualenv.

``kafka-topics``, ``kafka-console-producer``, ``kafka-console-consumer``,
``kafka-consumer-groups`` and ``kafka-acls`` run Apache Kafka's own tool classes
(``TOOLS``) from the jars the apache-kafka lab kind caches
(``brokers/kafka_dist.py``: ``~/.cache/linkops-lab``), exactly as Kafka's
``bin/*.sh`` scripts do: every flag, ``--command-config`` / ``--producer.config``
/ ``--consumer.config`` file, output line and error is Apache's. ``kafka-configs``
(``run_kafka_configs``) is Apache's ``ConfigCommand`` for every entity except a
cluster link (``--cluster-link L``, ``--entity-type cluster-links``), which the
lab's emulation handles (``configs.py``; Apache Kafka has no cluster links).

The JVM is started the cheap way the lab brokers' tools are (``kafka_dist.jvm_command``:
C1 only, serial GC, the class-data-sharing archive of the broker's classes when there
is one); log4j2 writes WARN and above to stderr only, so stdout is the tool's output.
``$LINKOPS_LAB_TOOLS_HEAP`` sets the heap (default 256m).

Nothing is fetched here: when Java 17+ or the jars are missing, the tool prints what
to run (``labctl.py fetch``, or the noida lab) and exits 1.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from linkops_lab.brokers import kafka_dist

# tool -> the main class Kafka 4.1's bin/<tool>.sh runs
TOOLS = {
    "kafka-topics": "org.apache.kafka.tools.TopicCommand",
    "kafka-console-producer": "org.apache.kafka.tools.ConsoleProducer",
    "kafka-console-consumer": "org.apache.kafka.tools.consumer.ConsoleConsumer",
    "kafka-consumer-groups": "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
    "kafka-acls": "org.apache.kafka.tools.AclCommand",
}
CONFIG_COMMAND = "kafka.admin.ConfigCommand"

FETCH_HINT = ("fetch them once with `.venv/bin/python tests/lab/labctl.py fetch` (Maven and Maven "
              "Central needed; `labctl.py up --brokers apache-kafka` does it too)")


class ToolUnavailable(RuntimeError):
    """Java 17+ or the cached jars are missing."""


def _log4j_file(libs: Path) -> Path:
    """The tools' log4j2 file next to the jars (in the temp directory if the cache is read-only)."""
    for folder in (libs.parent, Path(tempfile.gettempdir())):
        path = folder / "linkops-lab-tools-log4j2.properties"
        try:
            if not path.is_file() or path.read_text() != kafka_dist.TOOLS_LOG4J2:
                tmp = path.with_name(f".{path.name}.{os.getpid()}")
                tmp.write_text(kafka_dist.TOOLS_LOG4J2)
                os.replace(tmp, path)
            return path
        except OSError:
            continue
    raise ToolUnavailable(f"cannot write a log4j2 file in {libs.parent} nor {tempfile.gettempdir()}")


def command(main_class: str, argv: list[str]) -> list[str]:
    """The java command line that runs ``main_class`` with ``argv``; ``ToolUnavailable``
    naming what is missing and how to get it."""
    try:
        java = kafka_dist.check_java()
    except kafka_dist.Unavailable as exc:
        raise ToolUnavailable(str(exc)) from None
    libs = kafka_dist.cached_libs()
    if libs is None:
        raise ToolUnavailable(
            f"the Apache Kafka {kafka_dist.kafka_version()} jars are not cached in "
            f"{kafka_dist.libs_dir()}: {FETCH_HINT}")
    return kafka_dist.jvm_command(
        java, libs, main_class, *argv, heap=os.environ.get("LINKOPS_LAB_TOOLS_HEAP") or "256m",
        log4j=_log4j_file(libs), cds=kafka_dist.cds_archive_path(libs, java))


def _exec(tool: str, main_class: str, argv: list[str]) -> int:
    try:
        cmd = command(main_class, argv)
    except ToolUnavailable as exc:
        print(f"{tool}: cannot run Apache Kafka's {main_class}: {exc}", file=sys.stderr)
        return 1
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(cmd[0], cmd)       # the JVM replaces this process: exit code, signals, stdin
    return 1                    # not reached


def run(tool: str, argv: list[str]) -> int:
    """``tool`` (a key of ``TOOLS``) with ``argv``: the real Apache Kafka tool."""
    return _exec(tool, TOOLS[tool], argv)


def _names_cluster_link(argv: list[str]) -> bool:
    """Whether ``argv`` is a ``kafka-configs`` command about cluster links: ``--cluster-link``
    (or a unique abbreviation, joptsimple style) or ``--entity-type cluster-link[s]``."""
    it = iter(argv)
    for arg in it:
        if not arg.startswith("-") or arg in ("-", "--"):
            continue
        name, eq, value = arg.lstrip("-").partition("=")
        if len(name) >= 2 and "cluster-link".startswith(name):
            return True
        if len(name) >= 8 and "entity-type".startswith(name):
            if not eq:
                value = next(it, "")
            if value in ("cluster-links", "cluster-link"):
                return True
    return False


def _names_no_entity(argv: list[str]) -> bool:
    """``kafka-configs`` without an entity option (no arguments, ``--help``, ``--version``,
    a usage mistake): the lab's tool answers, as before the Apache tools were installed."""
    entity_opts = ("topic", "broker", "broker-logger", "broker-defaults", "user", "user-defaults",
                   "client", "client-defaults", "ip", "ip-defaults", "group", "client-metrics",
                   "entity-default", "entity-type", "entity-name", "bootstrap-controller")
    for arg in argv:
        name = arg.lstrip("-").partition("=")[0] if arg.startswith("-") else ""
        if name in entity_opts or (len(name) >= 3 and not "bootstrap-server".startswith(name)
                                   and any(o.startswith(name) for o in entity_opts)):
            return False
    return True


def run_kafka_configs(argv: list[str]) -> int:
    """``kafka-configs``: the lab's cluster-link emulation (configs.py) for cluster links,
    Apache Kafka's ConfigCommand for topics, brokers, users, clients, groups, ..."""
    if _names_cluster_link(argv) or _names_no_entity(argv):
        from linkops_lab.cptools.configs import main
        return main(argv)
    return _exec("kafka-configs", CONFIG_COMMAND, argv)
