"""Write the executables ``kafka-cluster-links``, ``kafka-mirrors`` and
``kafka-configs`` (``labctl.py install-tools [--bin DIR] [--force]``).

Each is a small Python script whose interpreter is the virtualenv's python and
which runs ``linkops_lab.cptools.<module>.main``. A file of the same name that is not one
of these wrappers (a real Confluent Platform tool, say) is never overwritten
without ``--force``; re-running the install rewrites the wrappers.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

LAB_DIR = Path(__file__).resolve().parents[2]   # tests/lab: the directory that holds linkops_lab
MARKER = "linkops-lab-cptools wrapper"
TOOLS = {"kafka-cluster-links": "cluster_links", "kafka-mirrors": "mirrors",
         "kafka-configs": "configs"}


class InstallError(RuntimeError):
    pass


def default_bin_dir() -> Path:
    # not resolved: the venv's python is a symlink and its directory is the venv's bin
    return Path(os.path.abspath(sys.executable)).parent


def wrapper_text(tool: str, python: str) -> str:
    module = TOOLS[tool]
    if len(python) > 120 or any(c.isspace() for c in python):
        # the shebang line cannot hold this path: re-exec through /bin/sh (pip's trick)
        head = f"#!/bin/sh\n'''exec' \"{python}\" \"$0\" \"$@\"\n' '''\n"
    else:
        head = f"#!{python}\n"
    return (
        f"{head}"
        f"# {tool}: {MARKER}. The linkops lab's emulation of the Confluent Platform tool;\n"
        f"# it talks to the lab's Kafka REST v3 emulator (tests/lab/linkops_lab/cptools, docs/lab.md\n"
        f"# \"CP tools\"). Not Confluent Platform. Written by `labctl.py install-tools`.\n"
        f"# The lab is not an installed package: the line below says where linkops_lab is.\n"
        f"import sys\n"
        f"sys.path.insert(0, {str(LAB_DIR)!r})\n"
        f"from linkops_lab.cptools.{module} import main\n"
        f"sys.exit(main(sys.argv[1:]))\n"
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
    return (f"from linkops_lab.cptools.{TOOLS[tool]} import main\n" not in text
            or f"sys.path.insert(0, {str(LAB_DIR)!r})\n" not in text)


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
    for tool in TOOLS:
        target = bin_path / tool
        if (target.exists() or target.is_symlink()) and not is_ours(target) and not force:
            raise InstallError(f"{target} exists and is not a linkops lab wrapper (a real "
                               f"Confluent Platform tool?); not overwriting it. Use --force, or "
                               f"--bin another directory.")
    written = []
    for tool in TOOLS:
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
    print(f"installed {', '.join(t.name for t in written)} in {where} (linkops lab emulation of "
          f"the Confluent Platform tools; they talk to the lab in $LINKOPS_LAB_DIR or .lab)")
    for tool in TOOLS:
        others = others_on_path(tool, where)
        if others:
            print(f"note: {tool} also exists at {', '.join(others)}; the one first on PATH runs",
                  file=sys.stderr)
    if shutil.which("kafka-cluster-links") is None:
        print(f"note: {where} is not on PATH; run the tools as {where}/kafka-cluster-links ...",
              file=sys.stderr)
    return 0
