"""plugin_utils.pki (and the pki filters' reading of pki_dir): the certificate list from the
cluster model, each host's share, and the plan on real certificates made here."""

import datetime
import ipaddress
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ansible_collections.kubebin.cluster.plugins.filter import pki as pki_filters
from ansible_collections.kubebin.cluster.plugins.plugin_utils import pki
from ansible_collections.kubebin.cluster.plugins.plugin_utils.cluster_model import cluster_model

ROOT = Path(__file__).resolve().parents[4]
PROFILES = yaml.safe_load((ROOT / "roles/pki/vars/main.yml").read_text())["pki_profiles"]
DIRS = {"etcd": "/etc/etcd/pki", "kube": "/etc/kubernetes/pki", "flannel": "/etc/flannel/pki"}
GROUPS = {
    "etcd": ["m1"],
    "kube_control_plane": ["m1"],
    "kube_node": ["n1", "n2"],
    "k8s_cluster": ["m1", "n1", "n2"],
}
IPS = {"m1": "10.0.0.11", "n1": "10.0.0.21", "n2": "10.0.0.22"}
SETTINGS = {
    "cluster_pod_cidr": "172.20.0.0/16",
    "cluster_kube_version": "1.10.13",
    "cluster_service_cidr": "172.21.0.0/16",
    "cluster_node_cidr": "10.0.0.0/24",
}
PLAN_SETTINGS = {
    "key": {"type": "ECC", "curve": "secp256r1"},
    "sa_key_size": 2048,
    "renew_before_days": 30,
    "valid_days": 365,
    "full_check": False,
}


def certs(extra=(), removing=None):
    model = cluster_model(SETTINGS, GROUPS, IPS, removing=removing)
    return pki.certificates(model, GROUPS, "kubernetes-ca", "etcd-ca", list(extra))


def test_the_certificate_list():
    got = {c["name"]: c for c in certs(["10.0.0.100", "api.example.lan"])}
    assert list(got)[:2] == ["ca", "etcd-ca"]
    assert got["etcd-server-m1"]["sans"] == [
        "DNS:m1",
        "IP:10.0.0.11",
        "IP:127.0.0.1",
        "DNS:localhost",
    ]
    assert got["apiserver"]["sans"][-2:] == ["IP:10.0.0.100", "DNS:api.example.lan"]
    assert "IP:172.21.0.1" in got["apiserver"]["sans"]
    assert got["kubelet-n2"] == {
        "name": "kubelet-n2",
        "profile": "server_client",
        "ca": "ca",
        "cn": "system:node:n2",
        "o": "system:nodes",
        "sans": ["DNS:n2", "IP:10.0.0.22"],
    }
    assert got["admin"]["o"] == "system:masters"
    # A node being removed gets no new certificate.
    assert "kubelet-n2" not in {c["name"] for c in certs(removing=["n2"])}


def test_san_types():
    assert [pki.san(v) for v in ("10.0.0.1", "fd00::1", "api.lan", "DNS:x", "URI:spiffe://a")] == [
        "IP:10.0.0.1",
        "IP:fd00::1",
        "DNS:api.lan",
        "DNS:x",
        "URI:spiffe://a",
    ]


def test_certificates_need_the_model():
    with pytest.raises(pki.PkiError, match=r"run playbooks/cluster_model\.yml first"):
        pki.certificates({}, GROUPS, "a", "b")


def found(path, checksum=None, mode="0644", owner="root", isdir=False):
    return {
        "path": path,
        "checksum": checksum,
        "mode": mode,
        "pw_name": owner,
        "gr_name": owner,
        "isdir": isdir,
    }


def test_a_node_s_share():
    sums = {"ca.crt": "c1", "kubelet-n1.crt": "k1", "kubelet-n1.key": "k2", "kube-proxy.crt": "p1"}
    have = [
        found("/etc/kubernetes/pki", isdir=True, mode="0755"),
        found("/etc/kubernetes/pki/ca.crt", "c1"),
        found("/etc/kubernetes/pki/kubelet.crt", "old"),
        found("/etc/kubernetes/pki/kubelet.key", "k2", mode="0644"),  # a key must be 0600
        found("/etc/kubernetes/pki/apiserver.key", "x", mode="0600"),  # not a node's
    ]
    share = pki.host_share("n1", ["kube_node", "k8s_cluster"], DIRS, have, sums)
    assert [f["dest"] for f in share["files"]][:2] == [
        "/etc/kubernetes/pki/kubelet.crt",
        "/etc/kubernetes/pki/kubelet.key",
    ]
    assert {
        "src": "kubelet-n1.key",
        "dest": "/etc/kubernetes/pki/kubelet.key",
        "mode": "0600",
        "secret": True,
    } in share["files"]
    assert "/etc/kubernetes/pki/ca.crt" not in [f["dest"] for f in share["files"]]
    assert share["dirs"] == ["/etc/flannel/pki"]
    assert share["stale"] == ["/etc/kubernetes/pki/apiserver.key"]
    # Check mode: only files pki_dir already has can be copied.
    check = pki.host_share("n1", ["kube_node", "k8s_cluster"], DIRS, have, sums, check_mode=True)
    assert {f["src"] for f in check["files"]} <= set(sums)


def test_the_ca_key_on_masters_only_when_asked():
    masters = ["etcd", "kube_control_plane", "k8s_cluster"]
    assert "/etc/kubernetes/pki/ca.key" not in pki.host_share("m1", masters, DIRS, [], {})["wanted"]
    assert (
        "/etc/kubernetes/pki/ca.key"
        in pki.host_share("m1", masters, DIRS, [], {}, ca_key_on_masters=True)["wanted"]
    )


# ------------------------------------------------------------------------------------------
# The plan, on real certificates in a pki_dir made here
# ------------------------------------------------------------------------------------------
def _name(cn, org=None):
    attrs = ([x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)] if org else []) + [
        x509.NameAttribute(NameOID.COMMON_NAME, cn)
    ]
    return x509.Name(attrs)


def _write(directory, stem, cert=None, key=None):
    if cert is not None:
        (directory / (stem + ".crt")).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    if key is not None:
        (directory / (stem + ".key")).write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )


def _issue(cn, key, ca_name, ca_key, *, ca=False, sans=(), org=None, days=365, eku=()):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn, org))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=not ca,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if not ca:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    if sans:
        names = []
        for s in sans:
            kind, value = s.split(":", 1)
            names.append(
                x509.IPAddress(ipaddress.ip_address(value)) if kind == "IP" else x509.DNSName(value)
            )
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(ca_key, hashes.SHA256())


@pytest.fixture
def pki_dir(tmp_path):
    """A CA and the etcdctl client certificate it signed, as the role's profiles describe them."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _issue("etcd-ca", ca_key, _name("etcd-ca"), ca_key, ca=True, days=3650)
    _write(tmp_path, "etcd-ca", ca, ca_key)
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = _issue("etcdctl", key, ca.subject, ca_key, eku=[ExtendedKeyUsageOID.CLIENT_AUTH])
    _write(tmp_path, "etcdctl", leaf, key)
    return tmp_path, ca, ca_key


CERTS = [
    {"name": "etcd-ca", "profile": "ca", "cn": "etcd-ca", "sans": []},
    {"name": "etcdctl", "profile": "client", "ca": "etcd-ca", "cn": "etcdctl", "sans": []},
    {"name": "flanneld", "profile": "client", "ca": "etcd-ca", "cn": "flanneld", "sans": []},
]


def run_plan(directory, wanted=None, **settings):
    wanted = CERTS if wanted is None else wanted
    return pki_filters.pki_plan(wanted, str(directory), PROFILES, dict(PLAN_SETTINGS, **settings))


def test_a_current_certificate_is_left_alone_and_a_missing_one_is_made(pki_dir):
    directory, _ca, _ca_key = pki_dir
    plan = run_plan(directory)
    assert plan["errors"] == [] and plan["new_cas"] == []
    assert [leaf["name"] for leaf in plan["leaves"]] == ["flanneld"]
    assert plan["leaves"][0]["reason"] == "new" and plan["leaves"][0]["ready"] is False
    assert [k["name"] for k in plan["new_keys"]] == ["flanneld", "sa"]
    assert plan["new_keys"][0] == {"type": "ECC", "curve": "secp256r1", "name": "flanneld"}
    assert plan["sa_pub"] is True
    # pki_full_check hands every leaf over, the current one included.
    full = run_plan(directory, full_check=True)
    assert {leaf["name"]: leaf["reason"] for leaf in full["leaves"]}["etcdctl"] == "full check"


def test_other_sans_a_due_date_and_a_foreign_ca_are_reasons(pki_dir):
    directory, ca, ca_key = pki_dir
    wanted = [dict(CERTS[0]), dict(CERTS[1], sans=["DNS:etcdctl.lan"])]
    reason = run_plan(directory, wanted)["leaves"][0]["reason"]
    assert reason == "SANs differ (added: DNS:etcdctl.lan; removed: none)"
    key = ec.generate_private_key(ec.SECP256R1())
    soon = _issue(
        "etcdctl", key, ca.subject, ca_key, days=10, eku=[ExtendedKeyUsageOID.CLIENT_AUTH]
    )
    _write(directory, "etcdctl", soon, key)
    leaf = run_plan(directory)["leaves"][0]
    assert leaf["force"] is True and "within 30 days" in leaf["reason"]
    other_key = ec.generate_private_key(ec.SECP256R1())
    other = _issue(
        "etcdctl", key, _name("someone-else"), other_key, eku=[ExtendedKeyUsageOID.CLIENT_AUTH]
    )
    _write(directory, "etcdctl", other)
    assert run_plan(directory)["leaves"][0]["reason"] == "it was not signed by the current etcd-ca"


def test_a_ca_without_its_key_stops_the_run(pki_dir):
    directory, _ca, _ca_key = pki_dir
    (directory / "etcd-ca.key").unlink()
    plan = run_plan(directory)
    assert len(plan["errors"]) == 1
    assert (
        "etcd-ca.crt exists but" in plan["errors"][0]
        and "restore the key from a backup" in plan["errors"][0]
    )


def test_sa_pub_follows_sa_key(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    _write(tmp_path, "sa", key=key)
    pub = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (tmp_path / "sa.pub").write_bytes(pub)
    assert run_plan(tmp_path, [])["sa_pub"] is False
    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    (tmp_path / "sa.pub").write_bytes(
        other.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    assert run_plan(tmp_path, [])["sa_pub"] is True


def test_checksums_of_pki_dir(pki_dir):
    directory, _ca, _ca_key = pki_dir
    sums = pki_filters.pki_checksums(str(directory))
    assert set(sums) == {"etcd-ca.crt", "etcd-ca.key", "etcdctl.crt", "etcdctl.key"}
    assert all(len(v) == 40 for v in sums.values())
    assert pki_filters.pki_checksums(str(directory / "missing")) == {}


def test_each_team_gets_a_client_certificate_with_its_group():
    model = cluster_model(
        {
            **SETTINGS,
            "cluster_teams": [{"name": "payments", "access": {"dev": "edit"}, "generation": 2}],
        },
        GROUPS,
        IPS,
    )
    got = {c["name"]: c for c in pki.certificates(model, GROUPS, "kubernetes-ca", "etcd-ca")}
    assert got["team-payments"] == {
        "name": "team-payments",
        "profile": "client",
        "ca": "ca",
        "cn": "team:payments",
        "o": "kubebin:team:payments:2",
        "sans": [],
    }
    # a team's certificate stays on the controller: no host's share names it
    for host in ("m1", "n1"):
        assert not [r for r in pki._layout(host, model["cert_dirs"]) if "team" in r[1]]


def test_the_encryption_config_in_each_release_format():
    import base64

    key = base64.b64encode(bytes(range(32))).decode()
    from ansible_collections.kubebin.cluster.plugins.plugin_utils.cluster_model import (
        releases as load_releases,
    )

    releases = load_releases()
    old = yaml.safe_load(pki.encryption_config(key + "\n", releases["1.10"]))
    assert (old["apiVersion"], old["kind"]) == ("v1", "EncryptionConfig")
    providers = old["resources"][0]["providers"]
    assert providers == [{"aescbc": {"keys": [{"name": "key1", "secret": key}]}}, {"identity": {}}]
    new = yaml.safe_load(pki.encryption_config(key, releases["1.35"]))
    assert (new["apiVersion"], new["kind"]) == (
        "apiserver.config.k8s.io/v1",
        "EncryptionConfiguration",
    )
    with pytest.raises(pki.PkiError, match="base64 of 32 bytes"):
        pki.encryption_config("c2hvcnQ=", releases["1.10"])
    # copied to the masters like a key
    share = pki.host_share(
        "m1", ["kube_control_plane", "k8s_cluster"], DIRS, [], {"encryption-config.yaml": "x"}
    )
    entry = next(f for f in share["files"] if f["src"] == "encryption-config.yaml")
    assert entry == {
        "src": "encryption-config.yaml",
        "dest": "/etc/kubernetes/pki/encryption-config.yaml",
        "mode": "0600",
        "secret": True,
    }
