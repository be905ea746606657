"""The lab's TLS material (part of ``apache_kafka``, also used by the REST emulator): the lab CA
under ``<workdir>/tls`` (``ensure_ca``, made at first use, kept across fresh starts in the same
directory), each server's PEM key store signed by it (``ensure_server_cert``: private key,
certificate with SANs ``IP:127.0.0.1`` and ``DNS:localhost``, CA certificate; the brokers and the
emulator's HTTPS), a client certificate and key for mutual TLS (``ensure_client_cert``), all made
with the ``openssl`` command; ``client_context``, the ``ssl.SSLContext`` of the lab's own HTTPS
clients; and ``_write_private``/``_private_dir``, the owner-only (0600/0700) files and directories
the secrets live in. Standard library only."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import ssl
import subprocess
import tempfile
from pathlib import Path
from typing import Iterable

from .kafka_dist import NOIDA_HINT, ApacheKafkaError, Unavailable, _FileLock


def _write_private(path: Path, data: str | bytes) -> None:
    """Write a file readable by its owner only (atomically)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data.encode() if isinstance(data, str) else data)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def _openssl(*args: str, cwd: Path) -> None:
    exe = shutil.which("openssl")
    if not exe:
        raise Unavailable("`openssl` is needed to make the lab CA and certificates "
                          f"(apt-get install openssl), {NOIDA_HINT}")
    proc = subprocess.run([exe, *args], cwd=cwd, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=120)
    if proc.returncode != 0:
        raise ApacheKafkaError(f"openssl {args[0]} failed: {proc.stderr.strip()[-400:]}")


def ensure_ca(workdir: Path) -> tuple[Path, Path]:
    """The lab CA under ``<workdir>/tls`` (made at first use): (cert, key)."""
    tls = _private_dir(Path(workdir) / "tls")
    crt, key = tls / "ca.crt", tls / "ca.key"
    with _FileLock(tls / ".lock"):
        if crt.is_file() and key.is_file():
            return crt, key
        with tempfile.TemporaryDirectory(dir=tls) as tmp:
            t = Path(tmp)
            _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                     "-nodes", "-sha256", "-days", "3650",
                     "-keyout", "ca.key", "-out", "ca.crt",
                     "-subj", f"/O=linkops lab/CN=linkops lab CA {secrets.token_hex(4)}",
                     "-addext", "basicConstraints=critical,CA:TRUE",
                     "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=t)
            for name in ("ca.key", "ca.crt"):
                os.chmod(t / name, 0o600)
            os.replace(t / "ca.key", key)
            os.replace(t / "ca.crt", crt)
    return crt, key


def _issue(ca: tuple[Path, Path], name: str, hosts: Iterable[str], usage: str,
           t: Path) -> tuple[str, str]:
    """A new key and certificate signed by ``ca`` (cert, key), made in ``t``: (key PEM,
    certificate PEM). The caller holds the lock of the tls directory."""
    ca_crt, ca_key = ca
    lines = ["basicConstraints=CA:FALSE", "keyUsage=critical,digitalSignature",
             f"extendedKeyUsage={usage}"]
    hosts = list(hosts)
    if hosts:
        lines.insert(0, "subjectAltName=" + ",".join(
            ("IP:" if re.fullmatch(r"[\d.]+|[0-9a-fA-F:]+:[0-9a-fA-F:]*", h) else "DNS:") + h
            for h in hosts))
    (t / "ext.cnf").write_text("\n".join(lines) + "\n")
    _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", "key.pem",
             "-out", "req.csr", "-subj", f"/O=linkops lab/CN={name}", cwd=t)
    _openssl("x509", "-req", "-in", "req.csr", "-CA", str(ca_crt), "-CAkey", str(ca_key),
             "-set_serial", str(int.from_bytes(os.urandom(8), "big")), "-days", "825",
             "-sha256", "-extfile", "ext.cnf", "-out", "crt.pem", cwd=t)
    return (t / "key.pem").read_text(), (t / "crt.pem").read_text()


def ensure_server_cert(workdir: Path, name: str,
                       hosts: Iterable[str] = ("127.0.0.1", "localhost")) -> Path:
    """A PEM key store for server ``name`` signed by the lab CA: private key
    (PKCS#8) + certificate + CA certificate in one file; returns its path."""
    ca = ensure_ca(workdir)
    tls = Path(workdir) / "tls"
    pem = tls / f"{name}.pem"
    with _FileLock(tls / ".lock"):
        if pem.is_file():
            return pem
        with tempfile.TemporaryDirectory(dir=tls) as tmp:
            key, crt = _issue(ca, name, hosts, "serverAuth,clientAuth", Path(tmp))
            _write_private(pem, key + crt + ca[0].read_text())
    return pem


def ensure_client_cert(workdir: Path, name: str) -> tuple[Path, Path]:
    """A client certificate (``CN=<name>``, extended key usage clientAuth) signed by the lab CA
    and its private key, as two PEM files (mode 0600) under ``<workdir>/tls``: (cert, key)."""
    ca = ensure_ca(workdir)
    tls = Path(workdir) / "tls"
    crt_path, key_path = tls / f"{name}.crt", tls / f"{name}.key"
    with _FileLock(tls / ".lock"):
        if crt_path.is_file() and key_path.is_file():
            return crt_path, key_path
        with tempfile.TemporaryDirectory(dir=tls) as tmp:
            key, crt = _issue(ca, name, (), "clientAuth", Path(tmp))
            _write_private(key_path, key)
            _write_private(crt_path, crt)
    return crt_path, key_path


def client_context(ca_file: str | os.PathLike | None, client_cert: str | os.PathLike | None = None,
                   client_key: str | os.PathLike | None = None) -> ssl.SSLContext:
    """The ``ssl.SSLContext`` of a lab client of an HTTPS endpoint: trusts ``ca_file`` (the lab
    CA), checks the host name, and presents ``client_cert``/``client_key`` when given (mTLS)."""
    ctx = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    if client_cert:
        ctx.load_cert_chain(str(client_cert), str(client_key) if client_key else None)
    return ctx
