"""filter/cidr.py: the Ansible face of plugin_utils.cidr.

The wrappers return what the core returns and turn CidrError into AnsibleFilterError naming the
filter and the bad value; every filter has documentation ansible-doc can show; and the filters
work in real Jinja templating through ansible itself.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.kubebin.cluster.plugins.filter import cidr as cidr_filters
from ansible_collections.kubebin.cluster.plugins.plugin_utils import cidr as core

ROOT = Path(__file__).resolve().parents[4]  # the checkout: tests/unit/plugins/filter/<this>
VENV_BIN = ROOT / ".venv" / "bin"
FILTERS = (
    "cluster_check",
    "service_ip",
    "flannel_subnets",
    "flannel_lease_key",
    "host_gw_routes",
    "route_commands",
    "route_files",
    "dnsmasq_split",
    "stale_routes",
)
ROUTER = "192.168.2.71"


def ansible_env():
    """Run ansible from the checkout's venv with the checkout's ansible.cfg."""
    env = dict(os.environ)
    bin_dirs = [str(VENV_BIN)] if VENV_BIN.is_dir() else []
    bin_dirs.append(str(Path(sys.executable).parent))
    env["PATH"] = os.pathsep.join([*bin_dirs, env.get("PATH", "")])
    env["ANSIBLE_CONFIG"] = str(ROOT / "ansible.cfg")
    env["ANSIBLE_NOCOLOR"] = "1"
    return env


def run(*argv, **env):
    return subprocess.run(
        argv,
        cwd=ROOT,
        env={**ansible_env(), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_filter_module_lists_every_filter():
    filters = cidr_filters.FilterModule().filters()
    assert sorted(filters) == sorted(FILTERS)
    assert all(callable(f) for f in filters.values())


# Each filter with good arguments returns exactly what the core returns.
GOOD = {
    "cluster_check": (({"pod_cidr": "172.20.0.0/16", "service_cidr": "172.20.0.0/16"},), {}),
    "service_ip": (("172.21.0.0/16", 2), {}),
    "flannel_subnets": (([{"name": "n1", "ip": "10.0.0.1"}], "172.20.0.0/16"), {"subnet_len": 25}),
    "flannel_lease_key": (("172.20.5.0/24",), {"prefix": "/x/"}),
    "host_gw_routes": (
        ({"a": "172.20.1.0/24", "b": "172.20.2.0/24"}, {"a": "10.0.0.1", "b": "10.0.0.2"}),
        {"node_cidr": "10.0.0.0/24", "only": ["b"]},
    ),
    "route_commands": ((["172.20.0.0/16", "172.21.0.0/16"], ROUTER, "windows"), {"merge": True}),
    "route_files": ((["172.20.0.0/16"], ROUTER, ["linux", "cisco"]), {}),
    "dnsmasq_split": (("cluster.local", "192.168.1.97", ["114.114.114.114"]), {}),
    "stale_routes": ((["172.20.3.0/24 via 10.0.0.3 dev eth0"], [], ["172.20.0.0/16"]), {}),
}


@pytest.mark.parametrize("name", FILTERS)
def test_wrapper_returns_the_core_result(name):
    args, kwargs = GOOD[name]
    wrapper = cidr_filters.FilterModule().filters()[name]
    assert wrapper(*args, **kwargs) == getattr(core, name)(*args, **kwargs)
    assert wrapper.__name__ == name


def test_wrappers_on_the_real_site():
    f = cidr_filters.FilterModule().filters()
    assert f["service_ip"]("172.21.0.0/16", 1) == "172.21.0.1"
    assert f["route_commands"](["172.20.0.0/16", "172.21.0.0/16"], ROUTER, "h3c") == [
        "ip route-static 172.20.0.0 16 192.168.2.71",
        "ip route-static 172.21.0.0 16 192.168.2.71",
    ]
    assert f["dnsmasq_split"]("cluster.local", "192.168.1.97", ["114.114.114.114"]) == [
        "no-resolv",
        "server=/cluster.local/192.168.1.97",
        "server=114.114.114.114",
    ]


# Each filter with a bad argument: AnsibleFilterError naming the filter, argument and value.
BAD = {
    "cluster_check": (({"pod_cidr": "172.20.0.0/33", "service_cidr": "172.21.0.0/16"},), {}),
    "service_ip": (("172.21.0.0/16", 65535), {}),
    "flannel_subnets": (([{"name": "n1", "ip": "10.0.0.1"}], "172.20.0.0/16"), {"reserved": []}),
    "flannel_lease_key": (("172.20.5.1/24",), {}),
    "host_gw_routes": (({"a": "172.20.1.0/24"}, {"a": "10.9.0.1"}, "10.0.0.0/24"), {}),
    "route_commands": ((["172.20.0.0/16"], ROUTER, "junos"), {}),
    "route_files": ((["172.20.0.0/16"], ROUTER, ["junos"]), {}),
    "dnsmasq_split": (("cluster_local", "192.168.1.97", ["114.114.114.114"]), {}),
    "stale_routes": (([], [], ["172.20.0.0/33"]), {}),
}
BAD_MESSAGES = {
    "cluster_check": "settings.pod_cidr: '172.20.0.0/33' is not an IPv4 network",
    "service_ip": "index: 65535 is outside service_cidr 172.21.0.0/16",
    "flannel_subnets": "reserved: [] (a list) is not a dictionary",
    "flannel_lease_key": "subnet: '172.20.5.1/24' has host bits set",
    "host_gw_routes": "node_ips['a']: '10.9.0.1' is not a host address of node_cidr 10.0.0.0/24",
    "route_commands": "style: 'junos' is not a known style; valid styles: cisco, h3c,",
    "route_files": "styles: 'junos' is not a known style; valid styles: cisco, h3c,",
    "dnsmasq_split": "cluster_domain: 'cluster_local' is not a valid domain name",
    "stale_routes": "owned[0]: '172.20.0.0/33' is not an IPv4 network",
}


@pytest.mark.parametrize("name", FILTERS)
def test_wrapper_turns_cidr_error_into_ansible_filter_error(name):
    args, kwargs = BAD[name]
    with pytest.raises(AnsibleFilterError) as info:
        cidr_filters.FilterModule().filters()[name](*args, **kwargs)
    assert str(info.value).startswith("kubebin.cluster.%s: " % name)
    assert BAD_MESSAGES[name] in str(info.value)
    assert isinstance(info.value.__cause__, core.CidrError)


def test_without_netaddr_the_filters_say_what_is_missing(monkeypatch):
    monkeypatch.setattr(core, "NETADDR_IMPORT_ERROR", "No module named 'netaddr'")
    with pytest.raises(
        AnsibleFilterError,
        match=r"kubebin.cluster.service_ip needs the Python"
        r" library netaddr on the controller \(pip install netaddr\)",
    ):
        cidr_filters.service_ip("172.21.0.0/16", 1)


@pytest.mark.parametrize("name", FILTERS)
def test_ansible_doc_shows_every_filter(name):
    result = run("ansible-doc", "-t", "filter", "kubebin.cluster." + name)
    assert result.returncode == 0, result.stderr
    assert "kubebin.cluster." + name in result.stdout
    assert "kubebin.cluster maintainers (@kubebin)" in result.stdout
    assert "EXAMPLES" in result.stdout
    assert "RETURN VALUES" in result.stdout


def adhoc(msg):
    """Template msg in a real ansible run (ad-hoc debug on localhost, JSON output)."""
    return run(
        "ansible",
        "localhost",
        "-m",
        "ansible.builtin.debug",
        "-a",
        "msg=" + msg,
        ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
    )


def test_filters_in_real_jinja_templating():
    msg = (
        "{{ {"
        "'kubernetes': '172.21.0.0/16' | kubebin.cluster.service_ip(1),"
        "'dns': '172.21.0.0/16' | kubebin.cluster.service_ip(2),"
        "'routes': ['172.21.0.0/16', '172.20.0.0/16']"
        "  | kubebin.cluster.route_commands('192.168.2.71', 'iproute2'),"
        "'merged': ['172.21.0.0/16', '172.20.0.0/16']"
        "  | kubebin.cluster.route_commands('192.168.2.71', 'linux', merge=true),"
        "'dnsmasq': 'cluster.local' | kubebin.cluster.dnsmasq_split('192.168.1.97',"
        "  ['114.114.114.114']),"
        "'subnets': [{'name': 'node2', 'ip': '192.168.1.95'}, {'name': 'node1', 'ip':"
        "  '192.168.1.94'}] | kubebin.cluster.flannel_subnets('172.20.0.0/16', 24),"
        "'key': '172.20.5.0/24' | kubebin.cluster.flannel_lease_key,"
        "'hostgw': {'node1': '172.20.1.0/24', 'node2': '172.20.2.0/24'}"
        "  | kubebin.cluster.host_gw_routes({'node1': '192.168.1.94', 'node2': '192.168.1.95'},"
        "  '192.168.0.0/22'),"
        "'check': {'pod_cidr': '172.20.0.0/16', 'service_cidr': '172.21.0.0/16',"
        "  'dns_ip': '172.21.0.0'} | kubebin.cluster.cluster_check,"
        "} }}"
    )
    result = adhoc(msg)
    assert result.returncode == 0, result.stdout + result.stderr
    # The JSON report starts at the first line that opens an object (the profile_tasks
    # callback enabled in ansible.cfg prints its timings around it).
    start = result.stdout.index("\n{") + 1
    report = json.JSONDecoder().raw_decode(result.stdout, start)[0]
    msg = report["plays"][0]["tasks"][0]["hosts"]["localhost"]["msg"]
    assert msg == {
        "kubernetes": "172.21.0.1",
        "dns": "172.21.0.2",
        "routes": [
            "ip route add 172.20.0.0/16 via 192.168.2.71",
            "ip route add 172.21.0.0/16 via 192.168.2.71",
        ],
        "merged": ["route add -net 172.20.0.0 netmask 255.254.0.0 gw 192.168.2.71"],
        "dnsmasq": ["no-resolv", "server=/cluster.local/192.168.1.97", "server=114.114.114.114"],
        "subnets": {"node1": "172.20.1.0/24", "node2": "172.20.2.0/24"},
        "key": "/coreos.com/network/subnets/172.20.5.0-24",
        "hostgw": {
            "node1": [{"dest": "172.20.2.0/24", "via": "192.168.1.95"}],
            "node2": [{"dest": "172.20.1.0/24", "via": "192.168.1.94"}],
        },
        "check": [
            "dns_ip 172.21.0.0 is the network address of service_cidr 172.21.0.0/16, not a host"
            " address - use 172.21.0.2 (service_cidr | kubebin.cluster.service_ip(2))"
        ],
    }


def test_filter_error_in_real_jinja_templating_names_the_value():
    result = adhoc("{{ '172.21.0.0/16' | kubebin.cluster.service_ip(0) }}")
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "kubebin.cluster.service_ip: index: 0 is outside service_cidr 172.21.0.0/16" in out


def test_the_cluster_model_filter_wraps_the_core():
    from ansible_collections.kubebin.cluster.plugins.filter import model
    from ansible_collections.kubebin.cluster.plugins.plugin_utils import cluster_model

    settings = {
        "cluster_pod_cidr": "172.20.0.0/16",
        "cluster_kube_version": "1.10.13",
        "cluster_service_cidr": "172.21.0.0/16",
        "cluster_node_cidr": "10.0.0.0/24",
    }
    groups = {"etcd": ["m1"], "k8s_cluster": ["m1", "n1"], "kube_node": ["n1"]}
    ips = {"m1": "10.0.0.1", "n1": ""}
    wrapped = model.FilterModule().filters()["cluster_model"]
    got = wrapped(settings, groups, ips, fallback_ips={"n1": "10.0.0.2"})
    assert got == cluster_model.cluster_model(
        settings, groups, ips, fallback_ips={"n1": "10.0.0.2"}
    )
    with pytest.raises(
        AnsibleFilterError,
        match=r"^kubebin.cluster.cluster_model: kubebin_node_ip is not set for n1",
    ):
        wrapped(settings, groups, ips)
