"""Verify the pki role: each host's files, modes, subjects, SANs, chains; what re-runs re-issued.

Certificates are read from the hosts and checked on the controller with `cryptography` (the
lab image has no guarantee of an openssl binary); `openssl verify` runs on the host as well
where it exists.
"""

import datetime
import hashlib
import ipaddress
import json
import os
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PKI_DIR = Path(os.environ["PKI_DIR"])
SIDE_EFFECT = Path(os.environ["PKI_SIDE_EFFECT"])

IPS = {"kb-pki-m1": "10.77.0.11", "kb-pki-n1": "10.77.0.21", "kb-pki-n2": "10.77.0.22"}
MASTERS = ["kb-pki-m1"]
ETCD = ["kb-pki-m1"]
SERVICE_IP = "172.21.0.1"
EXTRA_SANS = ["IP:10.77.0.100", "DNS:api.kb-pki.example"]  # side_effect's last runs
SERVER, CLIENT = ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH

ETCD_DIR, KUBE_DIR, FLANNEL_DIR = "/etc/etcd/pki", "/etc/kubernetes/pki", "/etc/flannel/pki"


def layout(name):
    """The contract: destination path -> file in pki_dir, for this host's groups."""
    files = {}
    if name in ETCD:
        files.update(
            {
                f"{ETCD_DIR}/ca.crt": "etcd-ca.crt",
                f"{ETCD_DIR}/server.crt": f"etcd-server-{name}.crt",
                f"{ETCD_DIR}/server.key": f"etcd-server-{name}.key",
                f"{ETCD_DIR}/peer.crt": f"etcd-peer-{name}.crt",
                f"{ETCD_DIR}/peer.key": f"etcd-peer-{name}.key",
                f"{ETCD_DIR}/etcdctl.crt": "etcdctl.crt",
                f"{ETCD_DIR}/etcdctl.key": "etcdctl.key",
            }
        )
    if name in MASTERS:
        files[f"{KUBE_DIR}/etcd-ca.crt"] = "etcd-ca.crt"
        files[f"{KUBE_DIR}/sa.key"] = "sa.key"
        files[f"{KUBE_DIR}/sa.pub"] = "sa.pub"
        # the Secrets' encryption provider config (holds its key: 0600)
        files[f"{KUBE_DIR}/encryption-config.yaml"] = "encryption-config.yaml"
        for stem in [
            "apiserver",
            "apiserver-kubelet-client",
            "apiserver-etcd-client",
            "admin",
            "controller-manager",
            "scheduler",
        ]:
            files[f"{KUBE_DIR}/{stem}.crt"] = f"{stem}.crt"
            files[f"{KUBE_DIR}/{stem}.key"] = f"{stem}.key"
    # every host here is in k8s_cluster
    files.update(
        {
            f"{KUBE_DIR}/ca.crt": "ca.crt",
            f"{KUBE_DIR}/kubelet.crt": f"kubelet-{name}.crt",
            f"{KUBE_DIR}/kubelet.key": f"kubelet-{name}.key",
            f"{KUBE_DIR}/kube-proxy.crt": "kube-proxy.crt",
            f"{KUBE_DIR}/kube-proxy.key": "kube-proxy.key",
            f"{FLANNEL_DIR}/etcd-ca.crt": "etcd-ca.crt",
            f"{FLANNEL_DIR}/flanneld.crt": "flanneld.crt",
            f"{FLANNEL_DIR}/flanneld.key": "flanneld.key",
        }
    )
    return files


def name_of(host):
    return host.backend.get_hostname()


def load_cert(host, path):
    return x509.load_pem_x509_certificate(host.file(path).content)


def cn(cert):
    return [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]


def org(cert):
    return [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]


def sans(cert):
    ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {f"DNS:{v}" for v in ext.get_values_for_type(x509.DNSName)} | {
        f"IP:{v}" for v in ext.get_values_for_type(x509.IPAddress)
    }


def eku(cert):
    return set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)


def is_ca(cert):
    return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def days_valid(cert):
    return (cert.not_valid_after_utc - cert.not_valid_before_utc) / datetime.timedelta(days=1)


# --- every host: exactly its files, root-owned, 0644 / 0600 -------------------------------


def test_exactly_the_files_its_groups_need(host):
    want = set(layout(name_of(host)))
    have = set()
    for directory in (ETCD_DIR, KUBE_DIR, FLANNEL_DIR):
        d = host.file(directory)
        if d.exists:
            have |= {f"{directory}/{f}" for f in d.listdir()}
    assert have == want


def test_nodes_have_no_etcd_or_control_plane_files(host):
    if name_of(host) in MASTERS + ETCD:
        pytest.skip("a master")
    assert not host.file(ETCD_DIR).exists
    assert not host.file(f"{KUBE_DIR}/apiserver.key").exists
    assert not host.file(f"{KUBE_DIR}/sa.key").exists


def test_ca_key_never_left_on_a_master(host):
    # side_effect put it there (pki_ca_key_on_masters: true) and took it away again.
    assert not host.file(f"{KUBE_DIR}/ca.key").exists


def test_modes_and_owner(host):
    for path in layout(name_of(host)):
        f = host.file(path)
        assert (f.user, f.group) == ("root", "root"), path
        secret = path.endswith((".key", "encryption-config.yaml"))
        assert f.mode == (0o600 if secret else 0o644), path
    for directory in {p.rsplit("/", 1)[0] for p in layout(name_of(host))}:
        d = host.file(directory)
        assert d.is_directory
        assert (d.user, d.group, d.mode) == ("root", "root", 0o755), directory


def test_files_are_the_controllers(host):
    for dest, src in layout(name_of(host)).items():
        local = (PKI_DIR / src).read_bytes()
        assert hashlib.sha256(host.file(dest).content).digest() == hashlib.sha256(local).digest(), (
            dest
        )


def test_keys_match_their_certificates(host):
    for dest in layout(name_of(host)):
        if not dest.endswith(".crt") or dest.endswith("ca.crt"):
            continue
        key = serialization.load_pem_private_key(
            host.file(dest[:-4] + ".key").content, password=None
        )
        assert load_cert(host, dest).public_key() == key.public_key(), dest


def test_sa_pub_is_sa_keys_public_half(host):
    if name_of(host) not in MASTERS:
        pytest.skip("not a master")
    key = serialization.load_pem_private_key(host.file(f"{KUBE_DIR}/sa.key").content, None)
    pub = serialization.load_pem_public_key(host.file(f"{KUBE_DIR}/sa.pub").content)
    assert key.public_key() == pub


# --- chains: the right CA for each file, two separate CAs --------------------------------


def chains(name):
    """(certificate, CA it must chain to) pairs on this host, both as host paths."""
    pairs = [
        (f"{KUBE_DIR}/kubelet.crt", f"{KUBE_DIR}/ca.crt"),
        (f"{KUBE_DIR}/kube-proxy.crt", f"{KUBE_DIR}/ca.crt"),
        (f"{FLANNEL_DIR}/flanneld.crt", f"{FLANNEL_DIR}/etcd-ca.crt"),
    ]
    if name in ETCD:
        pairs += [
            (f"{ETCD_DIR}/{c}.crt", f"{ETCD_DIR}/ca.crt") for c in ("server", "peer", "etcdctl")
        ]
    if name in MASTERS:
        pairs += [
            (f"{KUBE_DIR}/{c}.crt", f"{KUBE_DIR}/ca.crt")
            for c in (
                "apiserver",
                "apiserver-kubelet-client",
                "admin",
                "controller-manager",
                "scheduler",
            )
        ]
        pairs.append((f"{KUBE_DIR}/apiserver-etcd-client.crt", f"{KUBE_DIR}/etcd-ca.crt"))
    return pairs


def test_certificates_chain_to_the_right_ca(host):
    for cert_path, ca_path in chains(name_of(host)):
        cert, ca = load_cert(host, cert_path), load_cert(host, ca_path)
        assert is_ca(ca) and not is_ca(cert), cert_path
        assert cert.issuer == ca.subject, cert_path
        cert.verify_directly_issued_by(ca)


def test_openssl_verify_on_the_host(host):
    if not host.exists("openssl"):
        pytest.skip("no openssl binary in the lab image; chains are checked with cryptography")
    for cert_path, ca_path in chains(name_of(host)):
        out = host.run(f"openssl verify -CAfile {ca_path} {cert_path}")
        assert out.rc == 0, out.stdout + out.stderr


def test_the_etcd_ca_is_not_the_cluster_ca(host):
    cluster_ca = load_cert(host, f"{KUBE_DIR}/ca.crt")
    etcd_ca = load_cert(host, f"{FLANNEL_DIR}/etcd-ca.crt")
    assert cluster_ca.public_key() != etcd_ca.public_key()
    assert cluster_ca.subject != etcd_ca.subject
    flanneld = load_cert(host, f"{FLANNEL_DIR}/flanneld.crt")
    with pytest.raises((ValueError, InvalidSignature)):
        flanneld.verify_directly_issued_by(cluster_ca)


def test_validity(host):
    assert 3649 <= days_valid(load_cert(host, f"{KUBE_DIR}/ca.crt")) <= 3651
    assert 364 <= days_valid(load_cert(host, f"{KUBE_DIR}/kubelet.crt")) <= 366


# --- subjects, SANs, usages ---------------------------------------------------------------


def test_kubelet_certificate(host):
    name = name_of(host)
    cert = load_cert(host, f"{KUBE_DIR}/kubelet.crt")
    assert cn(cert) == [f"system:node:{name}"]
    assert org(cert) == ["system:nodes"]
    assert sans(cert) == {f"DNS:{name}", f"IP:{IPS[name]}"}
    assert eku(cert) == {SERVER, CLIENT}


def test_kube_proxy_and_flanneld_client_certificates(host):
    proxy = load_cert(host, f"{KUBE_DIR}/kube-proxy.crt")
    assert (cn(proxy), org(proxy), eku(proxy)) == (["system:kube-proxy"], [], {CLIENT})
    flanneld = load_cert(host, f"{FLANNEL_DIR}/flanneld.crt")
    assert (cn(flanneld), eku(flanneld)) == (["flanneld"], {CLIENT})


def test_etcd_member_certificates(host):
    name = name_of(host)
    if name not in ETCD:
        pytest.skip("not an etcd member")
    for kind in ("server", "peer"):
        cert = load_cert(host, f"{ETCD_DIR}/{kind}.crt")
        assert cn(cert) == [name]
        assert sans(cert) == {f"DNS:{name}", f"IP:{IPS[name]}", "IP:127.0.0.1", "DNS:localhost"}
        assert eku(cert) == {SERVER, CLIENT}
    etcdctl = load_cert(host, f"{ETCD_DIR}/etcdctl.crt")
    assert (cn(etcdctl), eku(etcdctl)) == (["etcdctl"], {CLIENT})


def test_apiserver_certificate(host):
    if name_of(host) not in MASTERS:
        pytest.skip("not a master")
    cert = load_cert(host, f"{KUBE_DIR}/apiserver.crt")
    assert cn(cert) == ["kube-apiserver"]
    assert eku(cert) == {SERVER}
    want = {
        "IP:127.0.0.1",
        "DNS:localhost",
        f"IP:{SERVICE_IP}",
        "DNS:kubernetes",
        "DNS:kubernetes.default",
        "DNS:kubernetes.default.svc",
        "DNS:kubernetes.default.svc.cluster.local",
        *EXTRA_SANS,
    }
    for master in MASTERS:
        want |= {f"DNS:{master}", f"IP:{IPS[master]}"}
    assert sans(cert) == want
    # the kubernetes service IP is the first address of cluster_service_cidr
    assert str(next(ipaddress.ip_network("172.21.0.0/16").hosts())) == SERVICE_IP


@pytest.mark.parametrize(
    ("stem", "common_name", "organization", "usage"),
    [
        ("apiserver-kubelet-client", "kube-apiserver-kubelet-client", [], CLIENT),
        ("apiserver-etcd-client", "kube-apiserver-etcd-client", [], CLIENT),
        ("admin", "admin", ["system:masters"], CLIENT),
        ("controller-manager", "system:kube-controller-manager", [], CLIENT),
        ("scheduler", "system:kube-scheduler", [], CLIENT),
    ],
)
def test_control_plane_client_certificates(host, stem, common_name, organization, usage):
    if name_of(host) not in MASTERS:
        pytest.skip("not a master")
    cert = load_cert(host, f"{KUBE_DIR}/{stem}.crt")
    assert cn(cert) == [common_name]
    assert org(cert) == organization
    assert eku(cert) == {usage}
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)


# --- the controller: pki_dir, and what each side_effect run re-issued ---------------------


@pytest.fixture(scope="module")
def record():
    return json.loads(SIDE_EFFECT.read_text())


def test_pki_dir_is_private():
    assert PKI_DIR.stat().st_mode & 0o777 == 0o700
    for f in PKI_DIR.iterdir():
        # the Secrets' encryption key is in encryption.key and in the config that holds it
        secret = f.suffix == ".key" or f.name == "encryption-config.yaml"
        assert f.stat().st_mode & 0o777 == (0o600 if secret else 0o644), f.name


def test_cas_were_never_re_issued(record):
    for ca in ("ca.crt", "etcd-ca.crt"):
        assert record["after"][ca] == record["before"][ca]
    assert not {"ca", "etcd-ca"} & set().union(*(r["issued"] for r in record["runs"].values()))


def test_run1_re_issued_only_what_was_due(record):
    # apiserver: new SANs; kubelet-kb-pki-n2: deleted; scheduler: 10 days left.
    assert record["runs"]["run1"]["issued"] == ["apiserver", "kubelet-kb-pki-n2", "scheduler"]
    changed = {n for n, v in record["before"].items() if record["after"].get(n) != v}
    assert changed == {"apiserver.crt", "scheduler.crt"}  # kubelet-kb-pki-n2.crt: not in before
    assert "kubelet-kb-pki-n2.crt" not in record["before"]
    assert "kubelet-kb-pki-n2.crt" in record["after"]


def test_run1_renewed_the_expiring_certificate_for_a_full_term(record):
    after = datetime.datetime.strptime(
        record["after"]["scheduler.crt"]["not_after"], "%Y%m%d%H%M%SZ"
    )
    left = after - datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    assert left > datetime.timedelta(days=360)


def test_run1_copied_only_the_changed_files(record):
    assert sorted(record["runs"]["run1"]["changed"]["kb-pki-m1"]) == [
        f"{KUBE_DIR}/apiserver.crt",
        f"{KUBE_DIR}/ca.key",
        f"{KUBE_DIR}/scheduler.crt",
    ]
    assert record["runs"]["run1"]["changed"]["kb-pki-n1"] == []
    assert record["runs"]["run1"]["changed"]["kb-pki-n2"] == [f"{KUBE_DIR}/kubelet.crt"]


def test_run2_only_removed_the_ca_key(record):
    assert record["runs"]["run2"]["issued"] == []
    assert record["runs"]["run2"]["changed"] == {
        "kb-pki-m1": [f"{KUBE_DIR}/ca.key"],
        "kb-pki-n1": [],
        "kb-pki-n2": [],
    }


def test_run3_community_crypto_agrees_nothing_is_due(record):
    assert record["runs"]["run3"]["issued"] == []
    assert all(v == [] for v in record["runs"]["run3"]["changed"].values())
