"""The catalogue against fact sets recorded as real hosts report them (factsets/README.md):
each host's findings are exactly the ones written down, and every rule fires on some host
and stays silent on another it applies to."""

import copy
from pathlib import Path

import pytest
import yaml

from ansible_collections.kubebin.cluster.plugins.plugin_utils import kernel_checks as kc
from ansible_collections.kubebin.cluster.plugins.plugin_utils.cluster_model import cluster_model

FACTSETS = sorted((Path(__file__).parent / "factsets").glob("*.yml"))
# The cluster of a fact set without its own: a control plane/etcd host, two nodes, an NFS server.
CLUSTER = {
    "settings": {
        "cluster_pod_cidr": "172.20.0.0/16",
        "cluster_service_cidr": "172.21.0.0/16",
        "cluster_node_cidr": "192.168.10.0/24",
        "cluster_domain": "cluster.local",
    },
    "groups": {
        "etcd": ["m1"],
        "kube_control_plane": ["m1"],
        "kube_node": ["n1", "n2"],
        "k8s_cluster": ["m1", "n1", "n2"],
        "nfs_server": ["nfs1"],
    },
    "ips": {
        "m1": "192.168.10.11",
        "n1": "192.168.10.21",
        "n2": "192.168.10.22",
        "nfs1": "192.168.10.40",
    },
}
MERGED = ("sysctl", "packages")  # a host's entries are merged into the base's


def hosts_of(path):
    doc = yaml.safe_load(path.read_text())
    cluster = {k: {**CLUSTER[k], **(doc.get("cluster") or {}).get(k, {})} for k in CLUSTER}
    if "groups" in (doc.get("cluster") or {}):
        cluster["groups"] = doc["cluster"]["groups"]
        cluster["ips"] = doc["cluster"]["ips"]
    groups = dict(cluster["groups"], all=sorted(cluster["ips"]))
    model = cluster_model(cluster["settings"], groups, cluster["ips"], doc.get("etcd_keys"))
    base = doc.get("base") or {}
    for name, spec in doc["hosts"].items():
        host = copy.deepcopy(base.get("host") or {})
        for key, value in (spec.get("host") or {}).items():
            host[key] = {**host.get(key, {}), **value} if key in MERGED else value
        planned = {
            "kube_version": model["versions"]["kubernetes"],
            "flannel_version": model["versions"]["flannel"],
            "flannel_backend": model["settings"]["flannel_backend"],
            "etcd_version": model["versions"]["etcd"],
            "kube_dns_version": model["versions"]["kube_dns"],
            "kube_proxy_mode": "ipvs",
            **(doc.get("planned") or {}),
            **(spec.get("planned") or {}),
        }
        facts = kc.rule_facts(
            host,
            model,
            name,
            os_facts={**(base.get("os") or {}), **(spec.get("os") or {})},
            planned=planned,
            etcd_keys=doc.get("etcd_keys"),
        )
        yield f"{path.stem}/{name}", facts, spec["fires"]


HOSTS = [entry for path in FACTSETS for entry in hosts_of(path)]
FIRED = {name: [f["id"] for f in kc.kernel_findings(facts)] for name, facts, _fires in HOSTS}


def test_the_releases_the_issue_names_are_recorded():
    stems = {p.stem for p in FACTSETS}
    assert {"centos-7.3", "centos-7.6", "centos-7.7", "ubuntu-16.04", "ubuntu-18.04"} <= stems
    assert "lab-debian12" in stems


@pytest.mark.parametrize(("name", "facts", "fires"), HOSTS, ids=[h[0] for h in HOSTS])
def test_each_host_finds_exactly_what_is_written_down(name, facts, fires):
    assert sorted(FIRED[name]) == sorted(fires)


def test_every_rule_fires_on_some_host_and_is_silent_on_another_it_applies_to():
    kinds_of = {name: set(facts["kinds"]) for name, facts, _fires in HOSTS}
    for rule in kc.load_rules():
        rid = rule["id"]
        applies = set(rule.get("applies_to", kc.DEFAULT_APPLIES_TO))
        fires = [n for n in FIRED if rid in FIRED[n]]
        silent = [n for n in FIRED if rid not in FIRED[n] and kinds_of[n] & applies]
        assert fires, f"{rid} fires on no recorded host"
        assert silent, f"{rid} is silent on no recorded host it applies to"


def test_derived_facts_come_from_the_host_not_the_inventory():
    by_name = {name: facts for name, facts, _fires in HOSTS}
    offlink = by_name["ubuntu-16.04/n1"]  # its address is a /32
    assert offlink["node_prefixlen"] == 32
    assert offlink["flannel_offlink_peers"] == ["192.168.10.11", "192.168.10.22"]
    assert by_name["centos-7.7/n1"]["flannel_offlink_peers"] == []
    assert by_name["centos-7.5/n1"]["flannel_lease_ttls"] == [86123]
    assert by_name["centos-7.7/n1"]["flannel_lease_ttls"] == [0]
    assert "flannel_lease_ttls" not in by_name["centos-7.3/n1"]  # etcd not read
    assert by_name["ubuntu-18.04/n1"]["kubelet_resolv_loopback"] == ["127.0.0.53"]
    assert by_name["ubuntu-18.04/n2"]["kubelet_resolv_loopback"] == []  # its --resolv-conf
    assert by_name["ubuntu-18.04/n2"]["node_ip_on_host"] is False
    assert by_name["centos-7.7/n2"]["node_iface"] == "eth1"
    assert by_name["centos-7.6/n2"]["docker0_ip"] == "172.17.0.1"
    assert by_name["centos-7.5/n1"]["nfs_v3_volumes"] is True
    assert by_name["centos-7.5/n1"]["nfs_soft_mounts"]
    assert by_name["centos-7.3/n1"]["selinux_enforcing"] is True
    assert by_name["lab-debian12/nfs1"]["kinds"] == ["nfs_server"]
