"""plugin_utils.cluster_model: the seed's prod inventory, reservations in etcd in any order,
pinned subnets, nodes removed and rebuilt, and every bad setting with the variable it names."""

import json
from pathlib import Path

import pytest
import yaml

from ansible_collections.kubebin.cluster.plugins.plugin_utils.cluster_model import (
    ModelError,
    cluster_model,
    releases,
    renamed_in_use,
)

ROOT = Path(__file__).resolve().parents[4]
PREFIX = "/coreos.com/network"
KEPT = "/kubebin/kept-subnets"


def inventory_groups(path):
    """Ansible's `groups` for a YAML inventory (children resolved), and each host's ansible_host."""
    data = yaml.safe_load(path.read_text())
    groups, hosts = {}, {}

    def walk(name, body):
        members = []
        for host, hvars in ((body or {}).get("hosts") or {}).items():
            members.append(host)
            if hvars and "ansible_host" in hvars:
                hosts[host] = hvars["ansible_host"]
        for child, child_body in ((body or {}).get("children") or {}).items():
            members += walk(child, child_body)
        members = list(dict.fromkeys(members))
        groups[name] = list(dict.fromkeys(groups.get(name, []) + members))
        return groups[name]

    walk("all", data["all"])
    return groups, hosts


GROUPS, HOSTS = inventory_groups(ROOT / "inventories/prod/hosts.yml")
SETTINGS = {
    k: v
    for k, v in yaml.safe_load(
        (ROOT / "inventories/prod/group_vars/all/cluster.yml").read_text()
    ).items()
    if k.startswith("cluster_")
}


def lease(subnet, ip, ttl=None, prefix=PREFIX):
    key = "%s/subnets/%s" % (prefix, subnet.replace("/", "-"))
    return {"key": key, "value": json.dumps({"PublicIP": ip, "BackendType": "host-gw"}), "ttl": ttl}


def kept(subnet, node, ip):
    return {
        "key": "%s/%s" % (KEPT, subnet.replace("/", "-")),
        "value": json.dumps({"node": node, "PublicIP": ip}),
    }


def model(settings=None, groups=None, ips=None, keys=None, removing=None):
    return cluster_model(
        {**SETTINGS, **(settings or {})}, groups or GROUPS, ips or HOSTS, keys, removing=removing
    )


def subnets(m):
    return {name: node["subnet"] for name, node in m["nodes"].items()}


def with_node(name, ip, groups=("kube_node",)):
    g = {k: list(v) for k, v in GROUPS.items()}
    for group in (*groups, "k8s_cluster", "all"):
        g.setdefault(group, []).append(name)
    return g, {**HOSTS, name: ip}


# ------------------------------------------------------------------------------------------
# The seed's prod inventory
# ------------------------------------------------------------------------------------------
def test_prod_inventory_everything_derived():
    m = model()
    assert m["kubernetes_service_ip"] == "172.21.0.1"
    assert m["dns_service_ip"] == "172.21.0.10"
    assert m["etcd_endpoints"] == [
        "https://192.168.1.91:2379",
        "https://192.168.1.92:2379",
        "https://192.168.1.93:2379",
    ]
    # New cluster: subnets in name order from the second (flanneld never leases the first).
    assert subnets(m) == {
        "dns1": "172.20.1.0/24",
        "master1": "172.20.2.0/24",
        "master2": "172.20.3.0/24",
        "master3": "172.20.4.0/24",
        "node1": "172.20.5.0/24",
        "node2": "172.20.6.0/24",
        "node3": "172.20.7.0/24",
        "router1": "172.20.8.0/24",
    }
    assert {n["source"] for n in m["nodes"].values()} == {"new"}
    assert m["nodes"]["node1"]["lease_key"] == "/coreos.com/network/subnets/172.20.5.0-24"
    assert m["nodes"]["router1"]["groups"] == ["k8s_cluster", "kube_node", "router"]
    assert m["reservations"]["/coreos.com/network/subnets/172.20.5.0-24"] == {
        "value": {"PublicIP": "192.168.1.94", "BackendType": "host-gw"}
    }
    # host-gw: one route per node, sorted by subnet; the router is inside the cluster here.
    assert [r["dest"] for r in m["host_gw_routes"]] == ["172.20.%d.0/24" % i for i in range(1, 9)]
    assert m["routers"] == {"router1": {"ip": "192.168.2.71", "in_cluster": True, "routes": []}}
    assert m["office_gateway"] == "192.168.2.71"
    assert m["office_routes"] == [
        {"dest": "172.20.0.0/16", "via": "192.168.2.71"},
        {"dest": "172.21.0.0/16", "via": "192.168.2.71"},
    ]
    assert m["service_via"] == "192.168.1.94"  # the first kube_node host
    sans = m["certificate_sans"]
    assert (
        "IP:172.21.0.1" in sans["apiserver"]
        and "DNS:kubernetes.default.svc.cluster.local" in sans["apiserver"]
    )
    assert sans["apiserver"][:2] == ["DNS:master1", "IP:192.168.1.91"]
    assert sans["kubelet"]["node2"] == ["DNS:node2", "IP:192.168.1.95"]
    assert sans["etcd"]["master3"] == [
        "DNS:master3",
        "IP:192.168.1.93",
        "IP:127.0.0.1",
        "DNS:localhost",
    ]
    assert m["flannel_config"] == {
        "Network": "172.20.0.0/16",
        "SubnetLen": 24,
        "Backend": {"Type": "host-gw"},
    }
    assert m["stale"] == [] and m["kept"] == {} and m["removing"] == {}


def test_settings_as_strings_from_jinja():
    m = model(
        {
            "cluster_pod_subnet_len": "25",
            "cluster_dns_service_index": "3",
            "cluster_etcd_client_port": "4001",
        }
    )
    assert m["nodes"]["dns1"]["subnet"] == "172.20.0.128/25"
    assert m["dns_service_ip"] == "172.21.0.3"
    assert m["etcd_endpoints"][0] == "https://192.168.1.91:4001"
    assert m["flannel_config"]["SubnetLen"] == 25 and isinstance(
        m["flannel_config"]["SubnetLen"], int
    )


def test_router_outside_the_cluster_routes_every_node_and_the_services():
    groups = {k: [h for h in v if h != "router1"] for k, v in GROUPS.items()}
    groups["router"] = ["router1"]
    m = model(groups=groups)
    r = m["routers"]["router1"]
    assert r["in_cluster"] is False
    assert r["routes"] == [{"dest": x["dest"], "via": x["via"]} for x in m["host_gw_routes"]]
    assert len(r["routes"]) == len(m["nodes"])
    assert m["service_via"] == "192.168.1.94"


# ------------------------------------------------------------------------------------------
# What etcd holds wins over the inventory's order
# ------------------------------------------------------------------------------------------
def test_reservations_in_another_order_than_the_inventory_are_kept():
    keys = [
        lease("172.20.9.0/24", "192.168.1.94"),  # node1
        lease("172.20.3.0/24", "192.168.1.91"),  # master1
        lease("172.20.1.0/24", "192.168.2.71"),  # router1
        {"key": PREFIX + "/config", "value": json.dumps({"Network": "172.20.0.0/16"})},
    ]
    m = model(keys=list(reversed(keys)))
    got = subnets(m)
    assert got["node1"] == "172.20.9.0/24" and m["nodes"]["node1"]["source"] == "etcd"
    assert got["master1"] == "172.20.3.0/24"
    assert got["router1"] == "172.20.1.0/24"
    # The rest get the lowest subnets nothing holds, in name order.
    assert got["dns1"] == "172.20.2.0/24"
    assert got["master2"] == "172.20.4.0/24"
    assert m["etcd_config"] == {"Network": "172.20.0.0/16"}
    assert model(keys=keys) == m


def test_adding_a_node_moves_no_other_node():
    before = model()
    keys = [lease(n["subnet"], n["ip"]) for n in before["nodes"].values()]
    groups, ips = with_node("app1", "192.168.1.99")
    after = cluster_model(SETTINGS, groups, ips, keys)
    new = subnets(after)
    assert {k: v for k, v in new.items() if k != "app1"} == subnets(before)
    assert new["app1"] == "172.20.9.0/24"
    assert after["nodes"]["app1"]["source"] == "new"
    # Without what etcd holds, the name order would have shifted nodes: the model must be
    # refreshed from etcd before a subnet is used.
    assert subnets(cluster_model(SETTINGS, groups, ips, None))["app1"] == "172.20.1.0/24"


def test_stale_keys_are_reported_and_never_handed_out():
    keys = [lease("172.20.1.0/24", "192.168.1.200", ttl=3600)]
    m = model(keys=keys)
    assert m["stale"] == [
        {"subnet": "172.20.1.0/24", "ip": "192.168.1.200", "key": PREFIX + "/subnets/172.20.1.0-24"}
    ]
    assert "172.20.1.0/24" not in subnets(m).values()


def test_keys_of_another_layout_or_prefix_are_ignored():
    keys = [
        lease("172.20.1.0/25", "192.168.1.94"),
        lease("10.9.1.0/24", "192.168.1.95"),
        lease("172.20.7.0/24", "192.168.1.96", prefix="/other"),
        {"key": PREFIX + "/subnets/garbage", "value": "{}"},
        {"key": PREFIX + "/subnets/172.20.8.0-24", "value": "not json"},
    ]
    assert subnets(model(keys=keys)) == subnets(model())


# ------------------------------------------------------------------------------------------
# Pinned subnets
# ------------------------------------------------------------------------------------------
def test_pinned_subnets_win_and_are_never_handed_to_others():
    m = model({"cluster_pinned_subnets": {"node3": "172.20.1.0/24", "gone": "172.20.2.0/24"}})
    got = subnets(m)
    assert got["node3"] == "172.20.1.0/24" and m["nodes"]["node3"]["source"] == "pinned"
    assert got["dns1"] == "172.20.3.0/24"  # 1 pinned to node3; 2 pinned (to a name not listed)
    assert "172.20.2.0/24" not in got.values()


def test_pin_agreeing_with_etcd_is_fine():
    m = model(
        {"cluster_pinned_subnets": {"node1": "172.20.9.0/24"}},
        keys=[lease("172.20.9.0/24", "192.168.1.94")],
    )
    assert m["nodes"]["node1"]["subnet"] == "172.20.9.0/24"


# ------------------------------------------------------------------------------------------
# Removing and rebuilding a node
# ------------------------------------------------------------------------------------------
def test_removing_a_node_reports_its_subnet_and_drops_its_routes():
    base = model()
    keys = [lease(n["subnet"], n["ip"]) for n in base["nodes"].values()]
    m = model(keys=keys, removing=["node2"])
    assert "node2" not in m["nodes"]
    assert m["removing"] == {
        "node2": {
            "ip": "192.168.1.95",
            "subnet": "172.20.6.0/24",
            "lease_key": PREFIX + "/subnets/172.20.6.0-24",
            "kept_key": KEPT + "/172.20.6.0-24",
        }
    }
    assert m["removing_kept"] == {
        KEPT + "/172.20.6.0-24": {"value": {"node": "node2", "PublicIP": "192.168.1.95"}}
    }
    assert m["removing_leases"] == [PREFIX + "/subnets/172.20.6.0-24"]
    assert PREFIX + "/subnets/172.20.6.0-24" not in m["reservations"]
    assert all(r["node"] != "node2" for r in m["host_gw_routes"])
    assert m["stale"] == []  # the key of a node being removed is not stale
    assert {k: v for k, v in subnets(base).items() if k != "node2"} == subnets(m)


def test_a_removed_node_keeps_its_subnet_and_gets_it_back():
    base = model()
    keys = [lease(n["subnet"], n["ip"]) for name, n in base["nodes"].items() if name != "node2"]
    keys.append(kept("172.20.6.0/24", "node2", "192.168.1.95"))
    groups = {k: [h for h in v if h != "node2"] for k, v in GROUPS.items()}
    without = cluster_model(SETTINGS, groups, HOSTS, keys)
    assert without["kept"] == {
        KEPT + "/172.20.6.0-24": {"node": "node2", "ip": "192.168.1.95", "subnet": "172.20.6.0/24"}
    }
    # A new node does not take the kept subnet...
    g2, ips2 = with_node("app1", "192.168.1.99")
    g2 = {k: [h for h in v if h != "node2"] for k, v in g2.items()}
    assert cluster_model(SETTINGS, g2, ips2, keys)["nodes"]["app1"]["subnet"] == "172.20.9.0/24"
    # ...and node2, rebuilt (even with a new address), gets it back.
    back = model(ips={**HOSTS, "node2": "192.168.1.150"}, keys=keys)
    assert back["nodes"]["node2"]["subnet"] == "172.20.6.0/24"
    assert back["nodes"]["node2"]["source"] == "kept"
    assert back["kept"] == {} and back["kept_reclaimed"] == [KEPT + "/172.20.6.0-24"]


# ------------------------------------------------------------------------------------------
# Bad settings: a clear error naming the variable and the fix
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("settings", "match"),
    [
        (
            {"cluster_dns_service_index": 300, "cluster_service_cidr": "172.21.0.0/24"},
            r"cluster_dns_service_index: 300 does not fit cluster_service_cidr 172\.21\.0\.0/24",
        ),
        (
            {"cluster_dns_service_index": 1},
            r"cluster_dns_service_index: 1 gives kube-dns 172\.21\.0\.1",
        ),
        (
            {"cluster_dns_service_index": "ten"},
            r"cluster_dns_service_index: 'ten' is not an integer",
        ),
        (
            {"cluster_pinned_subnets": {"node1": "10.0.1.0/24"}},
            r"cluster_pinned_subnets\[node1\]: 10\.0\.1\.0/24 is outside cluster_pod_cidr",
        ),
        (
            {"cluster_pinned_subnets": {"node1": "172.20.4.0/24", "node2": "172.20.4.0/24"}},
            r"cluster_pinned_subnets\[node2\]: 172\.20\.4\.0/24 is also pinned for node1",
        ),
        (
            {"cluster_pinned_subnets": {"node1": "172.20.4.0/25"}},
            r"cluster_pinned_subnets\[node1\].*/25 but cluster_pod_subnet_len is 24",
        ),
        (
            {"cluster_pinned_subnets": {"node1": "172.20.0.0/24"}},
            r"first subnet of cluster_pod_cidr",
        ),
        ({"cluster_pinned_subnets": ["node1"]}, r"cluster_pinned_subnets: .* is not a dictionary"),
        (
            {"cluster_service_cidr": "172.20.128.0/17"},
            r"cluster_pod_cidr 172\.20\.0\.0/16 overlaps cluster_service_cidr",
        ),
        (
            {"cluster_office_cidrs": ["172.21.5.0/24"]},
            r"cluster_service_cidr .* overlaps cluster_office_cidrs\[0\]",
        ),
        ({"cluster_pod_subnet_len": 31}, r"cluster_pod_subnet_len 31 is longer"),
        (
            {"cluster_pod_cidr": "172.20.0.0/21"},
            r"has room for 7 nodes .* but the number of k8s_cluster hosts is 8",
        ),
        ({"cluster_node_cidr": None}, r"cluster_node_cidr is not set"),
        ({"cluster_etcd_client_port": 70000}, r"cluster_etcd_client_port: 70000 is not a TCP port"),
        (
            {"cluster_flannel_etcd_prefix": "coreos"},
            r"cluster_flannel_etcd_prefix: 'coreos' is not an etcd key prefix",
        ),
        (
            {"cluster_kube_version": "1.11.3"},
            r"cluster_kube_version: '1\.11\.3' is not supported: .* Kubernetes 1\.10, 1\.35",
        ),
        ({"cluster_kube_version": "1.10"}, r"cluster_kube_version: '1\.10' is not supported"),
        ({"cluster_kube_version": "1.10.x"}, r"cluster_kube_version: '1\.10\.x' is not supported"),
        ({"cluster_apiserver_port": 0}, r"cluster_apiserver_port: 0 is not a TCP port"),
        (
            {"cluster_apiserver_url": "http://10.0.0.1:6443"},
            r"cluster_apiserver_url: 'http://10\.0\.0\.1:6443' is not https://HOST\[:PORT\]",
        ),
        (
            {"cluster_kube_pki_dir": "etc/pki"},
            r"cluster_kube_pki_dir: 'etc/pki' is not an absolute",
        ),
        ({"cluster_etcd_version": "latest"}, r"cluster_etcd_version: 'latest' is not a release"),
    ],
)
def test_bad_settings(settings, match):
    with pytest.raises(ModelError, match=match):
        model(settings)


def test_kubernetes_release_paths_and_apiserver_url():
    m = model()
    kube = m["kube"]
    assert (kube["version"], kube["minor"]) == ("1.10.13", "1.10")
    assert kube["release"]["runtime"] == "docker" and kube["registry"] == "k8s.gcr.io"
    first_master = GROUPS["kube_control_plane"][0]
    assert kube["apiserver_url"] == "https://%s:6443" % HOSTS[first_master]
    assert (kube["config_dir"], kube["pki_dir"]) == ("/etc/kubernetes", "/etc/kubernetes/pki")
    assert m["cert_dirs"] == {
        "etcd": "/etc/etcd/pki",
        "kube": "/etc/kubernetes/pki",
        "flannel": "/etc/flannel/pki",
    }
    assert m["settings"]["flannel_docker_env"] == "/run/flannel/docker"
    assert m["settings"]["upstream_dns"] == SETTINGS.get("cluster_upstream_dns", [])
    assert m["versions"] == {
        "kubernetes": "1.10.13",
        "etcd": "3.3.27",
        "flannel": "0.10.0",
        "kube_dns": "1.14.10",
    }
    site = model(
        {
            "cluster_kube_version": "v1.35.0",
            "cluster_apiserver_url": "https://k8s.example.internal:8443/",
            "cluster_image_registry": "registry.internal/k8s/",
            "cluster_apiserver_port": "6444",
        }
    )["kube"]
    assert (site["version"], site["minor"]) == ("1.35.0", "1.35")
    assert site["apiserver_url"] == "https://k8s.example.internal:8443"
    assert site["registry"] == "registry.internal/k8s"
    assert site["apiserver_port"] == 6444
    assert site["release"]["cgroup_driver"] == "systemd"


def test_settings_by_their_names_without_the_prefix_and_members_by_function():
    m = model(removing=["node3"])
    assert m["settings"]["pod_cidr"] == SETTINGS["cluster_pod_cidr"]
    assert m["settings"]["domain"] == SETTINGS.get("cluster_domain", "cluster.local")
    assert not [k for k in m["settings"] if k.startswith("cluster_")]
    assert m["members"]["control_plane"] == GROUPS["kube_control_plane"]
    assert "node3" not in m["members"]["nodes"] and "node3" in GROUPS["kube_node"]
    assert m["members"]["etcd"] == GROUPS["etcd"]


def test_host_kinds_and_the_layers_that_run_there():
    groups = dict(GROUPS, office_dns=["dns1x"], nfs_server=["nfs1"])
    kinds = model(groups=groups)["host_kinds"]
    master, node = GROUPS["kube_control_plane"][0], GROUPS["kube_node"][0]
    want = ["node"] + (["etcd"] if master in GROUPS["etcd"] else [])
    master_layers = ["node_prep", "flanneld"]
    if master in GROUPS["kube_node"]:
        master_layers += ["runtime", "kube_node"]
    if master in GROUPS["etcd"]:
        master_layers += ["etcd"]
    # as site.yml runs them: runtime and kube_node on kube_node hosts only
    assert kinds[master] == {"kinds": want, "layers": master_layers}
    assert kinds[node] == {
        "kinds": ["node"],
        "layers": ["node_prep", "flanneld", "runtime", "kube_node"],
    }
    assert kinds["dns1x"] == {"kinds": ["dns"], "layers": []}
    assert kinds["nfs1"] == {"kinds": ["nfs_server"], "layers": []}
    for router in GROUPS.get("router", []):
        assert "router" in kinds[router]["kinds"] and "router" in kinds[router]["layers"]


def test_every_release_has_the_shared_keys_and_each_role_its_flags():
    roles = ROOT / "roles"
    for minor, release in releases().items():
        for key in (
            "runtime",
            "cgroup_driver",
            "registry",
            "pause_image",
            "drain_flags",
            "api",
            "kube_dns",
        ):
            assert key in release, (minor, key)
        for role in ("kube_control_plane", "kube_node"):
            table = yaml.safe_load((roles / role / "vars" / ("k8s-%s.yml" % minor)).read_text())
            assert table[role + "_table"], (role, minor)


def test_old_setting_names_are_named_with_the_new_ones():
    assert renamed_in_use(["cluster_pod_cidr", "etcd_version", "kube_log_level"]) == [
        "kube_log_level -> cluster_kube_log_level",
        "etcd_version -> cluster_etcd_version",
    ]
    assert renamed_in_use([]) == []


def test_pin_moving_a_running_node_is_refused():
    with pytest.raises(
        ModelError,
        match=r"cluster_pinned_subnets\[node1\]: 172\.20\.4\.0/24, but etcd holds 172\.20\.9\.0/24",
    ):
        model(
            {"cluster_pinned_subnets": {"node1": "172.20.4.0/24"}},
            keys=[lease("172.20.9.0/24", "192.168.1.94")],
        )


def test_pin_held_by_another_address_is_refused():
    with pytest.raises(
        ModelError,
        match=r"cluster_pinned_subnets\[node1\]: 172\.20\.4\.0/24 is held in etcd by another",
    ):
        model(
            {"cluster_pinned_subnets": {"node1": "172.20.4.0/24"}},
            keys=[lease("172.20.4.0/24", "192.168.1.200")],
        )


@pytest.mark.parametrize(
    ("ips", "match"),
    [
        ({"node1": None}, r"kubebin_node_ip is not set for node1"),
        (
            {"node1": "192.168.1.95"},
            r"kubebin_node_ip of node[12]: 192\.168\.1\.95 is also the address of node[12]",
        ),
        (
            {"node1": "10.1.1.1"},
            r"kubebin_node_ip of node1 \(10\.1\.1\.1\) is not a host address of"
            r" cluster_node_cidr 192\.168\.0\.0/22: flannel host-gw",
        ),
        (
            {"node1": "192.168.1.300"},
            r"kubebin_node_ip of node1: '192\.168\.1\.300' is not an IPv4 address",
        ),
    ],
)
def test_bad_addresses(ips, match):
    with pytest.raises(ModelError, match=match):
        model(ips={**HOSTS, **ips})


def test_router_outside_the_cluster_off_the_segment_is_refused():
    groups = {k: [h for h in v if h != "router1"] for k, v in GROUPS.items()}
    groups["router"] = ["router1"]
    with pytest.raises(
        ModelError, match=r"kubebin_node_ip of router1 .* a router outside k8s_cluster"
    ):
        model(groups=groups, ips={**HOSTS, "router1": "192.168.8.1"})


def test_without_etcd_or_nodes_there_is_nothing_to_place():
    # Missing groups are preflight's to report (it names the group); the model places nothing.
    m = model(
        groups={k: v for k, v in GROUPS.items() if k not in ("etcd", "k8s_cluster", "kube_node")}
    )
    assert m["etcd_endpoints"] == [] and m["nodes"] == {} and m["service_via"] == ""


def test_ansible_host_is_the_address_of_a_host_without_kubebin_node_ip():
    ips = {**HOSTS, "node1": ""}
    m = cluster_model(SETTINGS, GROUPS, ips, None, fallback_ips={"node1": "192.168.1.94"})
    assert m["nodes"]["node1"]["ip"] == "192.168.1.94"


def test_removing_an_unknown_host_is_refused():
    with pytest.raises(ModelError, match=r"remove_nodes: nfs1 not in k8s_cluster"):
        model(removing=["nfs1"])


def test_exhausted_pod_network_names_the_fix():
    keys = [lease("172.20.%d.0/24" % i, "192.168.3.%d" % i) for i in range(1, 254)]
    with pytest.raises(ModelError, match=r"cluster_pod_cidr 172\.20\.0\.0/16 is exhausted"):
        model(keys=keys)


def test_flannel_leases_report_whose_each_key_is_and_what_converts_them():
    from ansible_collections.kubebin.cluster.plugins.plugin_utils.cluster_model import (
        flannel_leases,
    )

    m = model()
    nodes = sorted(m["nodes"].items())
    (name1, n1), (name2, n2) = nodes[0], nodes[1]
    keys = [
        lease(n1["subnet"], n1["ip"], ttl=86123),
        lease(n2["subnet"], n2["ip"]),
        lease("172.20.250.0/24", "10.9.9.9", ttl=60),
        {"key": PREFIX + "/config", "value": "{}", "ttl": None},
    ]
    got = flannel_leases(keys, m)
    by_node = {x["node"]: x for x in got["leases"]}
    assert by_node[name1]["ttl"] == 86123 and not by_node[name1]["reservation"]
    assert by_node[name2]["ttl"] == 0 and by_node[name2]["reservation"]
    assert by_node[None]["public_ip"] == "10.9.9.9"  # no node's: stale
    assert len(got["leases"]) == 3  # the config key is no lease
    assert sorted(got["convert"]) == sorted([keys[0]["key"], keys[2]["key"]])
    assert got["convert"][keys[0]["key"]] == {"value": keys[0]["value"]}
    line = next(r for r in got["report"] if r.startswith(keys[0]["key"]))
    assert line.endswith("node=%s LEASE ttl=86123s" % name1)
    assert any(r.endswith("NOT-A-NODE LEASE ttl=60s") for r in got["report"])


def test_environments_and_teams_are_in_the_model_and_their_mistakes_stop_it():
    m = model(settings={"cluster_teams": [{"name": "payments", "access": {"dev": "edit"}}]})
    assert list(m["environments"]) == ["dev", "test", "stage", "prod"]
    assert m["teams"]["payments"]["bindings"] == [{"namespace": "dev", "role": "edit"}]
    with pytest.raises(ModelError, match=r"cluster_teams\[0\]\.access: qa is not an environment"):
        model(settings={"cluster_teams": [{"name": "x", "access": {"qa": "edit"}}]})
