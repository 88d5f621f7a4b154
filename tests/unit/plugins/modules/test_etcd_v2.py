"""etcd_v2 module against a real etcd (from the artifact mirror) on loopback, over TLS.

Needs KUBEBIN_ARTIFACTS_MIRROR (make sets it when the offline mirror is present); without it
the etcd binary is not available here and the tests are skipped, saying so.
"""

import datetime
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import tarfile
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ansible_collections.kubebin.cluster.plugins.modules import etcd_v2

from . import moduleutil

ETCD_VERSION = "3.3.27"
MIRROR = os.environ.get("KUBEBIN_ARTIFACTS_MIRROR", "")
TARBALL = Path(MIRROR) / f"etcd-v{ETCD_VERSION}-linux-amd64.tar.xz" if MIRROR else None

pytestmark = pytest.mark.skipif(
    not (TARBALL and TARBALL.is_file()),
    reason="no etcd binary: KUBEBIN_ARTIFACTS_MIRROR does not name a mirror holding "
    f"etcd-v{ETCD_VERSION}-linux-amd64.tar.xz",
)


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


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def etcd(tmp_path_factory):
    work = tmp_path_factory.mktemp("etcd")
    with tarfile.open(TARBALL) as tar:
        member = tar.getmember(f"etcd-v{ETCD_VERSION}-linux-amd64/etcd")
        member.name = "etcd"
        tar.extract(member, work, filter="data")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("test-etcd-ca", ca_key, "test-etcd-ca", ca_key, ca=True)
    srv_key = ec.generate_private_key(ec.SECP256R1())
    srv = _cert("etcd-server", srv_key, "test-etcd-ca", ca_key, server=True)
    cli_key = ec.generate_private_key(ec.SECP256R1())
    cli = _cert("etcdctl", cli_key, "test-etcd-ca", ca_key)
    files = {}
    for name, cert, key in (("ca", ca, None), ("server", srv, srv_key), ("client", cli, cli_key)):
        _write(work / f"{name}.crt", cert=cert)
        files[f"{name}_crt"] = str(work / f"{name}.crt")
        if key is not None:
            _write(work / f"{name}.key", key=key)
            files[f"{name}_key"] = str(work / f"{name}.key")
    client_port, peer_port = _free_port(), _free_port()
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
            f"--cert-file={files['server_crt']}",
            f"--key-file={files['server_key']}",
            f"--trusted-ca-file={files['ca_crt']}",
            "--client-cert-auth=true",
            "--enable-v2=true",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    auth = {
        "endpoint": url,
        "ca_file": files["ca_crt"],
        "cert_file": files["client_crt"],
        "key_file": files["client_key"],
    }
    try:
        for _attempt in range(100):
            result = run_module({"action": "read", "prefix": "/", **auth}, work)
            if not result.get("failed"):
                break
            time.sleep(0.1)
        else:
            raise RuntimeError(f"etcd did not come up: {result}")
        yield auth, work
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(work / "data", ignore_errors=True)


def run_module(args, work, check=False, diff=False):
    return moduleutil.run_module(etcd_v2.__file__, args, work, check=check, diff=diff)


LEASE = "/coreos.com/network/subnets/172.20.1.0-24"
VALUE = {"PublicIP": "10.0.0.1", "BackendType": "host-gw"}


def read(auth, work, prefix="/coreos.com/network"):
    return {
        k["key"]: k for k in run_module({"action": "read", "prefix": prefix, **auth}, work)["keys"]
    }


def test_write_read_and_idempotence(etcd):
    auth, work = etcd
    keys = {
        LEASE: {"value": VALUE},
        "/coreos.com/network/config": {"value": {"Network": "172.20.0.0/16"}},
    }
    first = run_module({"action": "write", "keys": keys, **auth}, work)
    assert first["changed"] is True
    assert {c["key"] for c in first["changes"]} == set(keys)
    stored = read(auth, work)
    assert json.loads(stored[LEASE]["value"]) == VALUE
    assert stored[LEASE]["ttl"] is None
    again = run_module({"action": "write", "keys": keys, **auth}, work)
    assert again["changed"] is False


def test_json_values_compare_as_json(etcd):
    auth, work = etcd
    respaced = '{ "BackendType": "host-gw",  "PublicIP": "10.0.0.1" }'
    result = run_module({"action": "write", "keys": {LEASE: {"value": respaced}}, **auth}, work)
    assert result["changed"] is False


def test_a_lease_becomes_a_reservation_keeping_its_value(etcd):
    auth, work = etcd
    key = "/coreos.com/network/subnets/172.20.9.0-24"
    value = '{"PublicIP":"10.0.0.9","BackendType":"host-gw"}'
    run_module({"action": "write", "keys": {key: {"value": value, "ttl": 600}}, **auth}, work)
    assert 0 < read(auth, work)[key]["ttl"] <= 600
    planned = run_module(
        {"action": "write", "keys": {key: {"value": value}}, **auth}, work, check=True, diff=True
    )
    assert planned["changed"] is True
    assert "ttl" in planned["diff"]["before"]
    assert read(auth, work)[key]["ttl"] is not None  # check mode wrote nothing
    done = run_module({"action": "write", "keys": {key: {"value": value}}, **auth}, work)
    assert done["changed"] is True
    after = read(auth, work)[key]
    assert after["ttl"] is None
    assert after["value"] == value


def test_a_client_certificate_from_another_ca_is_refused(etcd):
    auth, work = etcd
    key = ec.generate_private_key(ec.SECP256R1())
    stranger = _cert("stranger", key, "stranger", key)
    _write(work / "stranger.crt", cert=stranger)
    _write(work / "stranger.key", key=key)
    bad = dict(auth, cert_file=str(work / "stranger.crt"), key_file=str(work / "stranger.key"))
    result = run_module({"action": "read", **bad}, work)
    assert result.get("failed")
    assert "cannot reach etcd" in result["msg"] or "failed" in result["msg"]


def test_unreadable_tls_files_are_a_clear_error(etcd):
    auth, work = etcd
    result = run_module({"action": "read", **dict(auth, key_file=str(work / "none.key"))}, work)
    assert result["failed"]
    assert "cannot load the etcd client TLS files" in result["msg"]


def test_reading_a_missing_prefix_is_empty(etcd):
    auth, work = etcd
    assert run_module({"action": "read", "prefix": "/nothing/here", **auth}, work)["keys"] == []


def test_reading_several_prefixes_returns_their_keys_together(etcd):
    auth, work = etcd
    kept = "/kubebin/kept-subnets/172.20.7.0-24"
    run_module(
        {
            "action": "write",
            "keys": {kept: {"value": {"node": "n2"}}, LEASE: {"value": VALUE}},
            **auth,
        },
        work,
    )
    both = run_module(
        {
            "action": "read",
            "prefix": ["/coreos.com/network", "/kubebin/kept-subnets", "/none"],
            **auth,
        },
        work,
    )["keys"]
    names = [k["key"] for k in both]
    assert kept in names and LEASE in names and names == sorted(names)


def test_absent_keys_are_deleted_once(etcd):
    auth, work = etcd
    key = "/kubebin/kept-subnets/172.20.8.0-24"
    run_module({"action": "write", "keys": {key: {"value": {"node": "n3"}}}, **auth}, work)
    planned = run_module({"action": "write", "absent": [key], **auth}, work, check=True, diff=True)
    assert planned["changed"] is True and f"{key} (absent)" in planned["diff"]["after"]
    assert key in read(auth, work, "/kubebin")  # check mode deleted nothing
    done = run_module({"action": "write", "absent": [key], **auth}, work)
    assert done["changed"] is True and done["changes"][0]["after"] is None
    assert key not in read(auth, work, "/kubebin")
    assert run_module({"action": "write", "absent": [key], **auth}, work)["changed"] is False
