"""A real etcd (from the artifact mirror) on loopback over TLS, for the module tests: its
binaries, a CA with a server certificate and client certificates by CN, and the process."""

import datetime
import ipaddress
import os
import socket
import subprocess
import tarfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ETCD_VERSION = "3.3.27"
MIRROR = os.environ.get("KUBEBIN_ARTIFACTS_MIRROR", "")
TARBALL = Path(MIRROR) / f"etcd-v{ETCD_VERSION}-linux-amd64.tar.xz" if MIRROR else None
SKIP_REASON = (
    "no etcd binary: KUBEBIN_ARTIFACTS_MIRROR does not name a mirror holding "
    f"etcd-v{ETCD_VERSION}-linux-amd64.tar.xz"
)


def available():
    return bool(TARBALL and TARBALL.is_file())


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject, key, issuer, issuer_key, *, ca=False, server=False):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    if not ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path, cert=None, key=None):
    if cert is not None:
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    else:
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            )
        )
        path.chmod(0o600)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(work, clients):
    """etcd and etcdctl unpacked in WORK, ca.crt, server.crt/.key and <cn>.crt/.key for each
    of CLIENTS there; etcd started with client-certificate auth and the v2 API. Returns
    (process, client URL)."""
    with tarfile.open(TARBALL) as tar:
        for binary in ("etcd", "etcdctl"):
            member = tar.getmember(f"etcd-v{ETCD_VERSION}-linux-amd64/{binary}")
            member.name = binary
            tar.extract(member, work, filter="data")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    _write(work / "ca.crt", cert=_cert("test-etcd-ca", ca_key, "test-etcd-ca", ca_key, ca=True))
    for cn in ["server", *clients]:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _cert(cn, key, "test-etcd-ca", ca_key, server=cn == "server")
        _write(work / f"{cn}.crt", cert=cert)
        _write(work / f"{cn}.key", key=key)
    client_port, peer_port = free_port(), free_port()
    url = f"https://127.0.0.1:{client_port}"
    proc = subprocess.Popen(
        [
            str(work / "etcd"),
            "--name=test",
            f"--data-dir={work / 'data'}",
            f"--listen-client-urls={url}",
            f"--advertise-client-urls={url}",
            f"--listen-peer-urls=http://127.0.0.1:{peer_port}",
            f"--initial-advertise-peer-urls=http://127.0.0.1:{peer_port}",
            f"--initial-cluster=test=http://127.0.0.1:{peer_port}",
            f"--cert-file={work / 'server.crt'}",
            f"--key-file={work / 'server.key'}",
            f"--trusted-ca-file={work / 'ca.crt'}",
            "--client-cert-auth=true",
            "--enable-v2=true",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return proc, url
