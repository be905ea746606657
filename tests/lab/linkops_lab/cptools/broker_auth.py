"""The ``--command-config`` of the lab's CP tools, tried against a secured lab broker.

The emulated tools talk to the lab's REST emulator, not to a broker, so on their own they would take
any credentials. On an apache-kafka lab (SASL_SSL, ``kind`` in lab.json) ``authenticate`` first
connects to the ``--bootstrap-server`` cluster's broker the way the Java admin client of the real
tool would, with the file's ``security.protocol``, ``sasl.mechanism``, the username and password of
its ``sasl.jaas.config`` and its PEM trust store (``ssl.truststore.location`` with
``ssl.truststore.type=PEM``, or ``ssl.truststore.certificates``), and fails as that client fails:
``SaslAuthenticationException``, ``SslAuthenticationException`` or, for a client that cannot speak
to the listener at all (PLAINTEXT against SASL_SSL), the admin client's ``TimeoutException``. A JKS
or PKCS12 trust store cannot be read here (librdkafka): the lab CA is trusted instead.
One metadata request, with confluent-kafka; nothing on noida labs.
"""

from __future__ import annotations

import time

from linkops_lab.cptools.errors import CommandError

TIMEOUT = 15.0


def client_settings(props: dict[str, str], bootstrap: str, ca_file: str | None) -> dict[str, str]:
    """librdkafka settings that do what the Java client settings ``props`` do."""
    protocol = (props.get("security.protocol") or "PLAINTEXT").upper()
    conf = {"bootstrap.servers": bootstrap, "security.protocol": protocol}
    if protocol.startswith("SASL"):
        conf["sasl.mechanism"] = props.get("sasl.mechanism") or "GSSAPI"
        from linkops_lab.emulator.clients import jaas_options   # as the emulator reads a link's JAAS line
        opts = jaas_options(props.get("sasl.jaas.config") or "")
        for key in ("username", "password"):
            if key in opts:
                conf[f"sasl.{key}"] = opts[key]
    if protocol.endswith("SSL"):
        pem = (props.get("ssl.truststore.type") or "JKS").upper() == "PEM"
        if pem and props.get("ssl.truststore.certificates"):
            conf["ssl.ca.pem"] = props["ssl.truststore.certificates"]
        elif pem and props.get("ssl.truststore.location"):
            conf["ssl.ca.location"] = props["ssl.truststore.location"]
        elif ca_file:
            conf["ssl.ca.location"] = ca_file
        algo = props.get("ssl.endpoint.identification.algorithm", "https")
        conf["ssl.endpoint.identification.algorithm"] = "https" if algo else "none"
    return conf


def authenticate(props: dict[str, str], bootstrap: str, lab_info: dict) -> None:
    """On an apache-kafka lab, raise ``CommandError`` as the real tool's admin client fails when
    the broker at ``bootstrap`` refuses the ``--command-config`` settings ``props``."""
    if lab_info.get("kind") != "apache-kafka":
        return
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient
    seen: list[str] = []
    conf = {**client_settings(props, bootstrap, lab_info.get("ca_file")), "log_level": 0,
            "socket.connection.setup.timeout.ms": 5000, "error_cb": lambda e: seen.append(e.str())}
    try:
        admin = AdminClient(conf)
    except KafkaException as exc:
        raise CommandError(f"org.apache.kafka.common.KafkaException: Failed to create new "
                           f"KafkaAdminClient: {exc.args[0].str()}") from None
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            admin.list_topics(timeout=0.5)
            return
        except KafkaException:
            pass
        admin.poll(0)
        text = " ".join(seen)
        if "SASL authentication error" in text or "Authentication failed" in text:
            raise CommandError("org.apache.kafka.common.errors.SaslAuthenticationException: "
                               "Authentication failed: Invalid username or password")
        if "SSL handshake failed" in text or "certificate verify failed" in text:
            raise CommandError("org.apache.kafka.common.errors.SslAuthenticationException: SSL "
                               "handshake failed (the trust store does not hold the CA of the "
                               "broker's certificate)")
        if time.monotonic() > deadline:
            raise CommandError("org.apache.kafka.common.errors.TimeoutException: Timed out waiting "
                               f"for a node assignment (the broker at '{bootstrap}' did not answer "
                               "with these --command-config settings)")
