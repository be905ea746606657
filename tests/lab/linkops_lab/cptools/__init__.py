"""The Confluent Platform cluster-linking tools, emulated for the linkops lab.

``kafka-cluster-links``, ``kafka-mirrors`` and ``kafka-configs --cluster-link``
as small Python programs that take the real tools' flags, print the lines the
real tools print (docs/lab.md, section "CP tools") and talk to the lab's
Kafka REST v3 emulator. ``labctl.py install-tools`` writes the executables.

Modules: ``common`` (joptsimple-style options, lab.json resolution, REST calls,
``--command-config`` checks, output), ``properties`` (Java properties files,
config lists), ``errors``, ``cluster_links``, ``mirrors``, ``configs`` (each
with ``main(argv) -> exit code``), ``install`` (the wrapper scripts).
"""

VERSION = "7.9.0-linkops-lab"
