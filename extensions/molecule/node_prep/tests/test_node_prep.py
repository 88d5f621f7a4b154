"""Verify node_prep on the lab hosts (testinfra, through molecule's inventory)."""

import json

import pytest

SYSCTL_FILE = "/etc/sysctl.d/90-kubebin.conf"
MODULES_FILE = "/etc/modules-load.d/kubebin.conf"
FACT_FILE = "/etc/ansible/facts.d/kubebin_node_prep.fact"

BASE_SYSCTLS = {
    "net.ipv4.ip_forward": 1,
    "fs.inotify.max_user_watches": 524288,
    "fs.inotify.max_user_instances": 8192,
}
BRIDGE_SYSCTLS = {
    "net.bridge.bridge-nf-call-iptables": 1,
    "net.bridge.bridge-nf-call-ip6tables": 1,
}
MODULES = ["br_netfilter", "ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_sh", "nf_conntrack"]
PACKAGES = ["conntrack", "iptables", "ipset", "ipvsadm", "kmod", "nfs-common", "socat"]


def sysctl_file(host):
    lines = host.file(SYSCTL_FILE).content_string.splitlines()
    pairs = [line.split("=", 1) for line in lines if line.strip() and not line.startswith("#")]
    return {k.strip(): v.strip() for k, v in pairs}


def expected_sysctls(host):
    want = dict(BASE_SYSCTLS)
    if host.file("/proc/sys/net/bridge").is_directory:
        want.update(BRIDGE_SYSCTLS)
    if host.file("/proc/sys/fs/may_detach_mounts").exists:
        want["fs.may_detach_mounts"] = 1
    return want


def test_sysctl_file_is_root_owned(host):
    f = host.file(SYSCTL_FILE)
    assert f.is_file
    assert f.user == "root"
    assert f.mode == 0o644


def test_sysctls_persisted(host):
    assert sysctl_file(host) == {k: str(v) for k, v in expected_sysctls(host).items()}


def test_sysctls_live(host):
    for key, value in expected_sysctls(host).items():
        assert host.sysctl(key) == value, key


def test_may_detach_mounts_only_where_kernel_has_it(host):
    persisted = sysctl_file(host)
    if host.file("/proc/sys/fs/may_detach_mounts").exists:
        assert persisted["fs.may_detach_mounts"] == "1"
    else:
        assert "fs.may_detach_mounts" not in persisted


def test_modules_load_d(host):
    f = host.file(MODULES_FILE)
    assert f.is_file
    names = [line for line in f.content_string.splitlines() if line and not line.startswith("#")]
    # kernels >= 4.19 call it nf_conntrack; the lab kernel is newer than that.
    assert names == MODULES


def module_available(host, name):
    feature = {
        "br_netfilter": "/proc/sys/net/bridge/bridge-nf-call-iptables",
        "ip_vs": "/proc/net/ip_vs",
        "nf_conntrack": "/proc/sys/net/netfilter/nf_conntrack_max",
    }.get(name)
    return host.file(f"/sys/module/{name}").exists or bool(feature and host.file(feature).exists)


def test_missing_modules_are_recorded_for_preflight(host):
    fact = json.loads(host.file(FACT_FILE).content_string)
    assert fact["kernel"] == host.check_output("uname -r")
    assert sorted(fact["kernel_modules"]) == sorted(MODULES)
    missing = sorted(m for m in MODULES if not module_available(host, m))
    assert fact["missing_kernel_modules"] == missing
    assert fact["bridge_sysctls"] == host.file("/proc/sys/net/bridge").is_directory


def test_loaded_modules_are_available(host):
    fact = json.loads(host.file(FACT_FILE).content_string)
    for name in set(MODULES) - set(fact["missing_kernel_modules"]):
        assert module_available(host, name), name


def test_swap_is_off(host):
    swaps = host.file("/proc/swaps").content_string.splitlines()
    assert swaps[1:] == []
    fstab = host.file("/etc/fstab").content_string
    # prepare.yml added this line; the role commented it out, with its marker.
    assert (
        "# /var/tmp/kubebin-test-swapfile none swap sw 0 0  # swap off: kubebin.cluster.node_prep"
        in fstab.splitlines()
    )
    for line in fstab.splitlines():
        fields = line.split()
        if len(fields) >= 3 and not line.lstrip().startswith("#"):
            assert fields[2] != "swap", line


@pytest.mark.parametrize("name", PACKAGES)
def test_packages_installed(host, name):
    assert host.package(name).is_installed
