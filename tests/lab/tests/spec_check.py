"""Validate emulator responses in the test process (the lab tests' ``rest`` helper).

``SpecChecker.load()`` returns a checker whose specs load on first use (the
Confluent Cloud spec, and the Confluent Platform spec for the operations only
it has, with the adjustments documented in linkops_lab/contract.py and docs/lab.md);
``check(method, path, status, body, query)`` maps a lab request (``/v3/...``
or ``/kafka/v3/...``) onto its operation and validates the response, raising
``AssertionError`` with the validation errors. ``validated`` counts the
responses checked.

The emulator itself checks every request and response when
``LAB_CONTRACT_LOG`` is set (tests/conftest.py does that for every pytest
session; see linkops_lab/contract.py); this in-process check additionally fails at the
call site, with the test's own traceback.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from linkops_lab import contract as labcontract


def spec_cache_path() -> Path | None:
    """Where the parsed specs are cached as JSON (shared with the emulators)."""
    explicit = os.environ.get("LAB_CONTRACT_SPEC_CACHE")
    if explicit:
        return Path(explicit)
    log = os.environ.get(labcontract.ENV)
    return Path(f"{log}.specs.json") if log else None


class SpecChecker:
    def __init__(self, contract: labcontract.Contract | None = None):
        self._contract = contract
        self._lock = threading.Lock()
        self.validated = 0

    @classmethod
    def load(cls) -> "SpecChecker":
        return cls()

    @property
    def contract(self) -> labcontract.Contract:
        if self._contract is None:
            with self._lock:
                if self._contract is None:
                    self._contract = labcontract.Contract.load(spec_cache_path())
        return self._contract

    def check(self, method: str, path: str, status: int, body, query: dict | None = None) -> None:
        kpath = labcontract.Contract.kafka_path(path)
        op = self.contract.operation(method, kpath)
        assert op is not None, f"{method} {path} is not an operation of the Cloud or Platform spec"
        if isinstance(body, str):  # non-JSON body, e.g. the 429 HTML page
            ctype = "text/html"
        else:
            ctype = "application/json" if body is not None else None
        errors = self.contract.check_response(op, method, kpath, status, ctype, body)
        if errors:
            args = "&".join(f"{k}={v}" for k, v in (query or {}).items())
            raise AssertionError(f"{method} {path}{'?' + args if args else ''} -> {status} does not "
                                 f"match the spec ({op.operation_id}, {op.spec_name}): "
                                 + "; ".join(errors))
        self.validated += 1
