"""The pki role's controller-side stops, and a first --check, without any host.

Each case writes a throwaway inventory whose hosts are docker containers that do not exist
and runs playbooks/pki.yml with --tags pki_generate: that play only ever runs on the
controller, so no host is contacted (one would show as UNREACHABLE, which the tests rule out).
The full generate/distribute cycle is extensions/molecule/pki's.
"""

import copy
import datetime

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ..playbook_runner import ROOT, assert_stopped_on_controller, run_playbook

PLAYBOOK = ROOT / "playbooks" / "pki.yml"

GOOD = {
    "all": {
        "vars": {
            "ansible_connection": "community.docker.docker",
            "cluster_pod_cidr": "172.20.0.0/16",
            "cluster_kube_version": "1.10.13",
            "cluster_service_cidr": "172.21.0.0/16",
            "cluster_node_cidr": "10.199.0.0/24",
            "cluster_domain": "cluster.local",
        },
        "children": {
            "etcd": {"hosts": {"kb-ghost-m1": {"kubebin_node_ip": "10.199.0.11"}}},
            "kube_control_plane": {"hosts": {"kb-ghost-m1": None}},
            "kube_node": {"hosts": {"kb-ghost-n1": {"kubebin_node_ip": "10.199.0.21"}}},
            "k8s_cluster": {"children": {"kube_control_plane": None, "kube_node": None}},
        },
    }
}


def inventory(tmp_path, mutate=None):
    inv = copy.deepcopy(GOOD)
    if mutate:
        mutate(inv)
    path = tmp_path / "inventory" / "hosts.yml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(inv))
    return path


def run(inv_path, *extra):
    return run_playbook(PLAYBOOK, inv_path, "--tags", "pki_generate", *extra)


def write_lonely_ca(pki_dir):
    """A CA certificate whose key is not there (lost, or never copied from a backup)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes-ca")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pki_dir.mkdir(mode=0o700)
    (pki_dir / "ca.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def test_host_without_an_address(tmp_path):
    def mutate(inv):
        inv["all"]["children"]["kube_node"]["hosts"]["kb-ghost-n1"] = None

    rc, out = run(inventory(tmp_path, mutate))
    assert_stopped_on_controller(rc, out, "kubebin_node_ip is not set for kb-ghost-n1")
    assert not (tmp_path / "inventory" / ".pki").exists()


def test_renewal_threshold_longer_than_a_certificate_lives(tmp_path):
    rc, out = run(inventory(tmp_path), "-e", "pki_renew_before_days=400")
    assert_stopped_on_controller(rc, out, "pki_renew_before_days (400) must be below")


def test_a_ca_without_its_key_stops_before_anything_is_made(tmp_path):
    inv = inventory(tmp_path)
    pki_dir = inv.parent / ".pki"  # the default: a hidden directory of the inventory
    write_lonely_ca(pki_dir)
    rc, out = run(inv)
    assert_stopped_on_controller(rc, out, "ca.crt exists but", "ca.key is missing")
    assert sorted(p.name for p in pki_dir.iterdir()) == ["ca.crt"]


def test_first_check_run_plans_everything_and_makes_nothing(tmp_path):
    inv = inventory(tmp_path)
    rc, out = run(inv, "--check")
    assert rc == 0, out
    assert "UNREACHABLE" not in out
    for name in ("apiserver: new", "kubelet-kb-ghost-n1: new", "etcd-server-kb-ghost-m1: new"):
        assert name in out, out
    assert not (inv.parent / ".pki").exists()
