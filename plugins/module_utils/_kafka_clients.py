# -*- coding: utf-8 -*-
# Copyright (c) linkops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Build confluent-kafka (librdkafka) client configurations from module options.

Private to the collection. Holds the guarded import of confluent_kafka, the rules for
which librdkafka settings are secrets, and a small log collector so that a module can
say *why* a cluster could not be reached in one line instead of a traceback.
"""

from __future__ import annotations

import logging
import re
import traceback

CONFLUENT_KAFKA_IMPORT_ERROR = None
try:
    import confluent_kafka  # noqa: F401  pylint: disable=unused-import
    from confluent_kafka import KafkaException  # noqa: F401
except ImportError:
    HAS_CONFLUENT_KAFKA = False
    CONFLUENT_KAFKA_IMPORT_ERROR = traceback.format_exc()

    class KafkaException(Exception):  # type: ignore[no-redef]
        """Stand-in so that ``except KafkaException`` works without the library."""

else:
    HAS_CONFLUENT_KAFKA = True

#: Substrings that make a librdkafka property name secret (compared case-insensitively).
#: ``key.password`` is covered by ``password``; ``ssl.key.pem`` is an inline private key;
#: ``sasl.oauthbearer.config`` may carry a client secret.
SECRET_KEY_MARKERS = ("password", "secret", "jaas", "ssl.key.pem", "sasl.oauthbearer.config")

MASK = "********"

DEFAULT_CLIENT_ID = "linkops-migration-verify"


def is_secret_key(key):
    """Return True when the librdkafka property ``key`` holds a secret."""
    name = str(key).lower()
    return any(marker in name for marker in SECRET_KEY_MARKERS)


def secret_values(client_config):
    """Return the values of secret-like keys in ``client_config`` (for ``module.no_log_values``)."""
    values = []
    for key, value in (client_config or {}).items():
        if value is None or not is_secret_key(key):
            continue
        text = _to_librdkafka_value(value)
        if text:
            values.append(text)
    return values


def mask_config(client_config):
    """Return a copy of ``client_config`` with the values of secret-like keys replaced by a mask."""
    return {key: (MASK if is_secret_key(key) else value) for key, value in (client_config or {}).items()}


def _to_librdkafka_value(value):
    """librdkafka wants strings; YAML gives bools and ints. ``True`` becomes ``"true"``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def build_client_config(bootstrap_servers, client_config=None, defaults=None, overrides=None):
    """Return a librdkafka configuration dict.

    Precedence, lowest first: ``defaults`` (settings the caller suggests, e.g. a client.id),
    ``client_config`` (what the user gave), ``overrides`` (settings the caller needs for
    correctness), and finally ``bootstrap.servers`` from the dedicated option.
    ``None`` values in ``client_config`` are dropped; everything is passed as a string.
    """
    config = {"client.id": DEFAULT_CLIENT_ID}
    config.update(defaults or {})
    for key, value in (client_config or {}).items():
        if value is None:
            continue
        config[str(key)] = _to_librdkafka_value(value)
    config.update(overrides or {})
    config["bootstrap.servers"] = bootstrap_servers
    return config


# librdkafka log lines look like
#   "FAIL [rdkafka#producer-1] [thrd:h:9092/bootstrap]: h:9092/bootstrap: Connect to ... failed: ..."
_LOG_PREFIX = re.compile(r"^\S+ \[[^\]]*\] \[[^\]]*\]: (?:\S+/(?:bootstrap|\d+): )?")
_BROKER_PREFIX = re.compile(r"^\S+/(?:bootstrap|\d+): ")
_ERROR_FACILITIES = ("FAIL", "ERROR", "SASL", "SSL", "AUTH", "BROKERFAIL")


class ClientLog(logging.Handler):
    """Collects librdkafka log lines (instead of letting them go to stderr).

    ``last_error`` is the most recent connection/authentication failure, cleaned of the
    librdkafka prefix, for one-line error messages.
    """

    def __init__(self, name):
        super().__init__(level=logging.DEBUG)
        self.lines = []
        self.errors = []
        self.callback_errors = []
        self.logger = logging.getLogger("linkops.cluster_linking.%s" % name)
        self.logger.propagate = False
        self.logger.setLevel(logging.INFO)
        for handler in list(self.logger.handlers):
            self.logger.removeHandler(handler)
        self.logger.addHandler(self)

    def emit(self, record):
        try:
            message = record.getMessage()
        except Exception:  # pragma: no cover - defensive, never let logging break the module
            return
        self.lines.append(message)
        del self.lines[:-50]
        if message.split(" ", 1)[0] in _ERROR_FACILITIES or record.levelno >= logging.ERROR:
            self.errors.append(_LOG_PREFIX.sub("", message))
            del self.errors[:-10]

    def error_cb(self, error):
        """Use as librdkafka ``error_cb``: record global client errors."""
        try:
            text = error.str()
        except Exception:  # pragma: no cover
            text = str(error)
        self.callback_errors.append(_BROKER_PREFIX.sub("", text))
        del self.callback_errors[:-10]

    @property
    def last_error(self):
        """The most specific recent failure: a broker log line if any (it names the cause),
        else a global client error such as ``1/1 brokers are down``."""
        if self.errors:
            return self.errors[-1]
        return self.callback_errors[-1] if self.callback_errors else None

    def attach(self, config):
        """Return ``config`` with this collector set as logger and error_cb."""
        config = dict(config)
        config["logger"] = self.logger
        config["error_cb"] = self.error_cb
        return config


def kafka_error_text(exc):
    """One line for a KafkaException / KafkaError / other exception."""
    err = exc.args[0] if isinstance(exc, KafkaException) and exc.args else exc
    name = getattr(err, "name", None)
    text = getattr(err, "str", None)
    if callable(name) and callable(text):
        try:
            return "%s: %s" % (name(), text())
        except Exception:  # pragma: no cover
            pass
    return str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__


def kafka_error_code_name(exc):
    """The librdkafka error name (``UNKNOWN_TOPIC_OR_PART``, ``_TIMED_OUT``...) or None."""
    err = exc.args[0] if isinstance(exc, KafkaException) and exc.args else exc
    name = getattr(err, "name", None)
    if callable(name):
        try:
            return name()
        except Exception:  # pragma: no cover
            return None
    return None
