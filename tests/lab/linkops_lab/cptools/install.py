"""Write the executables of the lab's virtualenv (``labctl.py install-tools [--bin DIR] [--force]``):

* ``kafka-cluster-links``, ``kafka-mirrors``: the lab's emulation of the Confluent Platform
  tools, which talk to the lab's Kafka REST v3 emulator;
* ``kafka-configs``: the lab's emulation for cluster links, Apache Kafka's ConfigCommand for
  every other entity (``apache.run_kafka_configs``);
* ``kafka-topics``, ``kafka-console-producer``, ``kafka-console-consumer``,
  ``kafka-consumer-groups``, ``kafka-acls`` (``APACHE_TOOLS``): the real Apache Kafka tools from
  the jars of the apache-kafka lab kind (``apache.py``).

Each is a small Python script whose interpreter is the virtualenv's python and which runs
``linkops_lab.cptools``. A file of the same name that is not one of these wrappers (a real
Confluent Platform or Apache Kafka tool, say) is never overwritten without ``--force``;
re-running the install rewrites the wrappers.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from linkops_lab.cptools.apache import TOOLS as APACHE_TOOLS

LAB_DIR = Path(__file__).resolve().parents[2]   # tests/lab: the directory that holds linkops_lab
MARKER = "linkops-lab-cptools wrapper"
TOOLS = {"kafka-cluster-links": "cluster_links", "kafka-mirrors": "mirrors",
         "kafka-configs": "configs"}
ALL_TOOLS = [*TOOLS, *APACHE_TOOLS]


class InstallError(RuntimeError):
    pass


def default_bin_dir() -> Path:
    # not resolved: the venv's python is a symlink and its directory is the venv's bin
    return Path(os.path.abspath(sys.executable)).parent


def _run_lines(tool: str) -> str:
    """The last lines of ``tool``'s wrapper: what it imports and runs."""
    if tool == "kafka-configs":
        return ("from linkops_lab.cptools.apache import run_kafka_configs\n"
                "sys.exit(run_kafka_configs(sys.argv[1:]))\n")
    if tool in APACHE_TOOLS:
        return f"from linkops_lab.cptools.apache import run\nsys.exit(run({tool!r}, sys.argv[1:]))\n"
    return f"from linkops_lab.cptools.{TOOLS[tool]} import main\nsys.exit(main(sys.argv[1:]))\n"


def wrapper_text(tool: str, python: str) -> str:
    if len(python) > 120 or any(c.isspace() for c in python):
        # the shebang line cannot hold this path: re-exec through /bin/sh (pip's trick)
        head = f"#!/bin/sh\n'''exec' \"{python}\" \"$0\" \"$@\"\n' '''\n"
    else:
        head = f"#!{python}\n"
    if tool in APACHE_TOOLS:
        what = (f"# {tool}: {MARKER}. Apache Kafka's own tool ({APACHE_TOOLS[tool]}) from the\n"
                f"# jars the linkops lab caches (tests/lab/linkops_lab/cptools/apache.py, docs/lab.md\n"
                f"# \"CP tools\"). Written by `labctl.py install-tools`.\n")
    else:
        what = (f"# {tool}: {MARKER}. The linkops lab's emulation of the Confluent Platform tool;\n"
                f"# it talks to the lab's Kafka REST v3 emulator (tests/lab/linkops_lab/cptools, docs/lab.md\n"
                f"# \"CP tools\"). Not Confluent Platform. Written by `labctl.py install-tools`.\n")
    return (
        f"{head}{what}"
        f"# The lab is not an installed package: the line below says where linkops_lab is.\n"
        f"import sys\n"
        f"sys.path.insert(0, {str(LAB_DIR)!r})\n"
        f"{_run_lines(tool)}"
    )


def is_ours(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return MARKER.encode() in fh.read(4096)
    except OSError:
        return False


def is_stale(path: Path, tool: str) -> bool:
    """One of our wrappers that does not run this lab's ``linkops_lab.cptools`` (written by an older
    lab, e.g. before the lab became a package): re-run the install."""
    if not is_ours(path):
        return False
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return True
    return _run_lines(tool) not in text or f"sys.path.insert(0, {str(LAB_DIR)!r})\n" not in text


def others_on_path(tool: str, bin_dir: Path) -> list[str]:
    """Other executables named ``tool`` on $PATH (real CP tools we might shadow)."""
    found = []
    for d in os.environ.get("PATH", "").split(os.pathsep):
        if not d:
            continue
        candidate = Path(d) / tool
        try:
            if candidate.resolve().parent == bin_dir.resolve():
                continue
        except OSError:
            continue
        if candidate.is_file() and os.access(candidate, os.X_OK) and not is_ours(candidate):
            found.append(str(candidate))
    return found


def install(bin_dir: str | os.PathLike | None = None, *, python: str | None = None,
            force: bool = False) -> list[Path]:
    bin_path = Path(bin_dir).expanduser().absolute() if bin_dir else default_bin_dir()
    python = python or os.path.abspath(sys.executable)
    bin_path.mkdir(parents=True, exist_ok=True)
    for tool in ALL_TOOLS:
        target = bin_path / tool
        if (target.exists() or target.is_symlink()) and not is_ours(target) and not force:
            raise InstallError(f"{target} exists and is not a linkops lab wrapper (a real "
                               f"Confluent Platform or Apache Kafka tool?); not overwriting it. Use --force, or "
                               f"--bin another directory.")
    written = []
    for tool in ALL_TOOLS:
        target = bin_path / tool
        fd, tmp = tempfile.mkstemp(prefix=f".{tool}.", dir=bin_path)
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(wrapper_text(tool, python))
            os.chmod(tmp, 0o755)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append(target)
    return written


def main_install(bin_dir: str | None, force: bool) -> int:
    try:
        written = install(bin_dir, force=force)
    except (InstallError, OSError) as exc:
        print(f"labctl install-tools: error: {exc}", file=sys.stderr)
        return 1
    where = written[0].parent
    print(f"installed {', '.join(t.name for t in written)} in {where} (kafka-cluster-links, "
          f"kafka-mirrors, kafka-configs --cluster-link: the linkops lab's emulation of the "
          f"Confluent Platform tools, talking to the lab in $LINKOPS_LAB_DIR or .lab; the others: "
          f"Apache Kafka's own tools from the jars of the apache-kafka lab)")
    for tool in ALL_TOOLS:
        others = others_on_path(tool, where)
        if others:
            print(f"note: {tool} also exists at {', '.join(others)}; the one first on PATH runs",
                  file=sys.stderr)
    if shutil.which("kafka-cluster-links") is None:
        print(f"note: {where} is not on PATH; run the tools as {where}/kafka-cluster-links ...",
              file=sys.stderr)
    return 0
