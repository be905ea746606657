"""linkops_lab: the local Cluster Linking lab (docs/lab.md, "How the lab is built").

Rooms: ``lab`` (the ``Lab`` class: start, attach, stop, data helpers), ``startup`` (starting
the brokers and the emulator for ``Lab.start``), ``ctl`` (the ``labctl`` command line), ``kafka`` (confluent-kafka helpers), ``contract`` (OpenAPI checks of
every emulator request and response), ``emulator/`` (the Cluster Linking emulator: Kafka REST v3,
link and mirror state, the copier), ``cptools/`` (the emulated Confluent Platform tools).
The directory that holds this package (tests/lab) must be on ``sys.path``: pytest.ini's
``pythonpath`` and ``tests/lab/labctl.py`` (run as a script) see to that.
"""
