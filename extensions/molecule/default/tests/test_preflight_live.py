"""preflight (playbooks/preflight.yml) against the converged cluster: what it reads from the
running hosts - flanneld's and etcd's flags, the units' restart policy, docker0 against
flannel's subnet, the kubelet's DNS flags, each node's real prefix, and the TTL of every
flannel subnet key in etcd. A lease given a TTL is reported (K8S-FLANNEL-002) until
playbooks/ops/flannel_leases.yml turns it back into a reservation.

Runs after test_lifecycle.py on the same cluster (node2 rebuilt and back)."""

import ipaddress
import json
import os
import shlex
from pathlib import Path

import pytest
from lab import get_host as host
from lab import playbook

MASTER = "kb-cl-m1"
NODES = {"kb-cl-n1": "10.250.4.21", "kb-cl-n2": "10.250.4.22"}
PREFIX = "/coreos.com/network/subnets"
REPORT = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/tmp")) / "preflight-live.json"
FLANNEL_RULES = {f"K8S-FLANNEL-00{i}" for i in range(1, 7)}


def etcdctl_v2(master, *args):
    script = "source /etc/profile.d/etcdctl.sh && ETCDCTL_API=2 etcdctl " + " ".join(
        shlex.quote(a) for a in args
    )
    out = master.run("bash -lc " + shlex.quote(script))
    assert out.rc == 0, out.stderr
    return out.stdout


def subnet_keys(master):
    """{PublicIP: (key, value, ttl)} of flannel's subnet keys."""
    found = {}
    for key in etcdctl_v2(master, "ls", PREFIX).split():
        text = etcdctl_v2(master, "-o", "extended", "get", key)
        ttl = int(next(line for line in text.splitlines() if line.startswith("TTL:")).split()[1])
        value = text.strip().splitlines()[-1]
        found[json.loads(value)["PublicIP"]] = (key, value, ttl)
    return found


def preflight():
    playbook("preflight.yml", "-e", f"preflight_report_file={REPORT}")
    return json.loads(REPORT.read_text())["hosts"]


@pytest.fixture(scope="module")
def master():
    return host(MASTER)


def ids(entry):
    return {f["id"] for f in entry["findings"]}


def test_converged_cluster_inputs_are_read_from_the_hosts(master):
    hosts = preflight()
    keys = subnet_keys(master)
    for name, ip in NODES.items():
        facts = hosts[name]["facts"]
        assert facts["flannel_unit_restart"] == "always"
        assert any(a.startswith("--iface=") for a in facts["flanneld_args"])
        subnet = ipaddress.ip_interface(facts["flannel_subnet"]).network
        assert ipaddress.ip_address(facts["docker0_ip"]) in subnet
        assert facts["flannel_lease_ttls"] == [keys[ip][2]] == [0]  # a reservation
        assert facts["node_ip_on_host"] is True and facts["flannel_offlink_peers"] == []
        assert "--cluster-dns=172.21.0.10" in facts["kubelet_args"]
        assert "--cluster-cidr=172.20.0.0/16" in facts["kube_proxy_args"]
        assert not ids(hosts[name]) & (FLANNEL_RULES | {"K8S-DNS-003", "K8S-NET-001"})
        assert hosts[name]["blocking"] == []
    etcd = hosts[MASTER]["facts"]
    assert "--enable-v2=true" in etcd["etcd_args"]
    assert "etcd" in hosts[MASTER]["kinds"]


def test_a_lease_with_a_ttl_is_reported_until_converted(master):
    key, value, ttl = subnet_keys(master)[NODES["kb-cl-n1"]]
    assert ttl == 0
    etcdctl_v2(master, "set", "--ttl", "3600", key, value)
    hosts = preflight()
    n1, n2 = hosts["kb-cl-n1"], hosts["kb-cl-n2"]
    assert n1["facts"]["flannel_lease_ttls"][0] > 0
    assert "K8S-FLANNEL-002" in ids(n1)
    assert "K8S-FLANNEL-002" not in ids(n2) and n2["facts"]["flannel_lease_ttls"] == [0]

    playbook("ops/flannel_leases.yml", "-e", "mode=convert")
    assert subnet_keys(master)[NODES["kb-cl-n1"]][2] == 0
    hosts = preflight()
    assert "K8S-FLANNEL-002" not in ids(hosts["kb-cl-n1"])
    assert hosts["kb-cl-n1"]["facts"]["flannel_lease_ttls"] == [0]
