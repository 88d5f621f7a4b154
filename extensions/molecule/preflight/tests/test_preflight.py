"""Verify preflight on the lab hosts: real findings reported, blocking ones stop the play."""

import json
import os
import re

import pytest

REPORT = os.environ["PREFLIGHT_REPORT"]
# The office DNS server of the scenario: not a cluster host (no node rule applies to it).
OFFICE = "kb-pf-dns"
BLOCKED = os.path.join(os.path.dirname(REPORT), "preflight-blocked.json")


def load(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


@pytest.fixture(scope="module")
def report():
    return load(REPORT)


@pytest.fixture(scope="module")
def blocked():
    return load(BLOCKED)


def kernel_ge(release, major, minor):
    m = re.match(r"(\d+)\.(\d+)", release)
    return (int(m.group(1)), int(m.group(2))) >= (major, minor)


def ids(entry):
    return [f["id"] for f in entry["findings"]]


@pytest.fixture
def node(host):
    """The host, when it is a cluster node (the node rules' tests)."""
    if host.backend.get_hostname() == OFFICE:
        pytest.skip("the office DNS host is held to no node rule (test_office_host_*)")
    return host


def test_report_covers_the_host(host, report):
    name = host.backend.get_hostname()
    entry = report["hosts"][name]
    assert entry["kernel"] == host.check_output("uname -r")


def test_ipvs_modules_finding_matches_the_kernel(node, report):
    entry = report["hosts"][node.backend.get_hostname()]
    has_ipvs = node.file("/proc/net/ip_vs").exists or node.file("/sys/module/ip_vs").exists
    assert ("K8S-IPVS-001" in ids(entry)) is (not has_ipvs)
    assert ("ip_vs" in entry["facts"]["modules"]) is has_ipvs


def test_new_kernel_with_kube_1_10_ipvs_is_critical(node, report):
    entry = report["hosts"][node.backend.get_hostname()]
    fires = kernel_ge(node.check_output("uname -r"), 4, 19)
    assert ("K8S-IPVS-002" in ids(entry)) is fires
    if fires:
        finding = next(f for f in entry["findings"] if f["id"] == "K8S-IPVS-002")
        assert finding["severity"] == "CRIT"


def test_findings_are_sorted_most_severe_first(host, report):
    order = ["CRIT", "HIGH", "MED", "LOW", "INFO"]
    entry = report["hosts"][host.backend.get_hostname()]
    ranks = [order.index(f["severity"]) for f in entry["findings"]]
    assert ranks == sorted(ranks)


def test_accepted_findings_do_not_block(host, report):
    entry = report["hosts"][host.backend.get_hostname()]
    assert entry["blocking"] == []
    assert set(entry["accepted"]) <= {"K8S-IPVS-001", "K8S-IPVS-002", "K8S-DNS-005"}


def test_sysctl_facts_are_the_live_values(host, report):
    facts = report["hosts"][host.backend.get_hostname()]["facts"]
    for name, value in facts["sysctl"].items():
        assert str(host.sysctl(name)) == value, name


def test_without_acceptance_the_play_stops_before_any_change(node, blocked):
    entry = blocked["hosts"][node.backend.get_hostname()]
    layers = set(entry["fixing_layers"])
    # what site.yml runs on the host after preflight: runtime and kube_node on kube_node hosts,
    # etcd on etcd hosts
    expected = {"node_prep", "flanneld"}
    expected |= {"etcd"} if node.backend.get_hostname() == "kb-pf-1" else {"runtime", "kube_node"}
    assert layers == expected
    serious = [f for f in entry["findings"] if f["severity"] in ("CRIT", "HIGH")]
    crit_or_high = [f["id"] for f in serious if not layers & set(f["fixed_by"])]
    assert crit_or_high, "the lab kernel is expected to have blocking findings"
    assert entry["blocking"] == crit_or_high
    # What those layers fix is reported, not blocking.
    assert entry["fixed"] == [f["id"] for f in entry["findings"] if layers & set(f["fixed_by"])]
    assert not node.file("/etc/kubebin-preflight-let-me-through").exists
    message = node.file("/var/tmp/kubebin-preflight-failure.txt").content_string
    for finding_id in crit_or_high:
        assert finding_id in message
    assert "preflight_accepted_findings" in message


def test_office_host_is_held_to_no_node_rule(host, report, blocked):
    """The office DNS server runs no kubelet, docker or flanneld: no node rule fires on it, so
    nothing blocks it, with or without accepted findings (the nodes' own are blocked above)."""
    if host.backend.get_hostname() != OFFICE:
        pytest.skip("a cluster node")
    for run in (report, blocked):
        entry = run["hosts"][OFFICE]
        assert entry["findings"] == [], entry["findings"]
        assert entry["blocking"] == []
    assert not host.file("/var/tmp/kubebin-preflight-failure.txt").exists
    assert host.file("/etc/kubebin-preflight-let-me-through").exists


def test_swap_that_boot_turns_on_is_reported_fixed_by_node_prep(node, report):
    """kb-pf-2's fstab has a swap line (converge put it there): reported, fixed by node_prep;
    kb-pf-1's has none. No kubelet runs on the lab hosts: its flags are read as none."""
    name = node.backend.get_hostname()
    entry = report["hosts"][name]
    has_line = "swap" in node.check_output("awk '$1 !~ /^#/ {print $3}' /etc/fstab").split()
    assert ("K8S-SWAP-002" in ids(entry)) is has_line
    assert has_line is (name == "kb-pf-2")
    if has_line:
        assert entry["facts"]["swap_fstab"] == ["/swapfile"]
        assert "K8S-SWAP-002" in entry["fixed"]
    assert entry["facts"]["kubelet_args"] == [] and entry["facts"]["kube_proxy_args"] == []


def addresses(host):
    """{address: prefixlen} of the host's IPv4 addresses, as the kernel has them."""
    out = {}
    for line in host.check_output("ip -4 -o addr show").splitlines():
        address, prefixlen = line.split()[3].split("/")
        out[address] = int(prefixlen)
    return out


def test_off_link_peer_comes_from_the_real_netmask(node, blocked):
    """side_effect re-added kb-pf-2's address as a /32: kb-pf-1 is off-link from it, whatever
    the inventory says, and host-gw's rule blocks; kb-pf-1's /24 holds kb-pf-2."""
    name = node.backend.get_hostname()
    entry = blocked["hosts"][name]
    mine = {"kb-pf-1": "10.250.9.11", "kb-pf-2": "10.250.9.21"}[name]
    peer = {"kb-pf-1": "10.250.9.21", "kb-pf-2": "10.250.9.11"}[name]
    prefixlen = addresses(node)[mine]
    assert entry["facts"]["node_ip_on_host"] is True
    assert entry["facts"]["node_prefixlen"] == prefixlen
    assert prefixlen == (32 if name == "kb-pf-2" else 24)
    offlink = prefixlen == 32
    assert entry["facts"]["flannel_offlink_peers"] == ([peer] if offlink else [])
    assert ("K8S-FLANNEL-003" in entry["blocking"]) is offlink


def test_loopback_resolver_is_read_from_resolv_conf(node, report):
    """The lab's resolv.conf names docker's embedded DNS (127.0.0.11): kubelet would hand pods
    a nameserver they cannot reach (K8S-DNS-005, accepted in the lab)."""
    entry = report["hosts"][node.backend.get_hostname()]
    servers = [
        line.split()[1]
        for line in node.file("/etc/resolv.conf").content_string.splitlines()
        if line.startswith("nameserver")
    ]
    loopback = [s for s in servers if s.startswith("127.")]
    assert entry["facts"]["resolv_conf"]["/etc/resolv.conf"] == servers
    assert entry["facts"]["kubelet_resolv_loopback"] == loopback
    assert ("K8S-DNS-005" in ids(entry)) is bool(loopback)


def test_docker_data_root_filesystem_is_the_real_one(node, report):
    facts = report["hosts"][node.backend.get_hostname()]["facts"]
    fstype = node.check_output("findmnt -n -o FSTYPE --target /var/lib/docker")
    assert facts["docker_root"]["fstype"] == fstype
    assert ("K8S-DTYPE-001" in ids(report["hosts"][node.backend.get_hostname()])) is (
        facts["docker_root"].get("dtype") is False
    )


def test_no_lease_facts_without_etcd_and_no_process_flags(node, report):
    """No etcd runs in this scenario (the default scenario's cluster checks the leases): no
    lease facts, so the lease rules stay silent rather than guess."""
    facts = report["hosts"][node.backend.get_hostname()]["facts"]
    assert "flannel_lease_ttls" not in facts
    assert facts["flanneld_args"] == [] and facts["etcd_args"] == []
