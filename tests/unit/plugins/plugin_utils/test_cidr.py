"""plugin_utils.cidr: every function's normal cases, every error path, the real site's numbers,
and hypothesis properties of the flannel subnet allocation."""

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.kubebin.cluster.plugins.plugin_utils import cidr
from ansible_collections.kubebin.cluster.plugins.plugin_utils.cidr import CidrError

# The real site (inventories/prod): pods, services, the nodes' segment, the office LAN.
POD = "172.20.0.0/16"
SERVICE = "172.21.0.0/16"
NODE_CIDR = "192.168.0.0/22"
OFFICE = "192.168.0.0/16"
ROUTER = "192.168.2.71"
PROD_NODES = {
    "master1": "192.168.1.91",
    "master2": "192.168.1.92",
    "master3": "192.168.1.93",
    "node1": "192.168.1.94",
    "node2": "192.168.1.95",
    "node3": "192.168.1.96",
    "dns1": "192.168.1.97",
    "router1": "192.168.2.71",
}


def nodes_of(mapping):
    return [{"name": name, "ip": ip} for name, ip in mapping.items()]


def raises(match):
    return pytest.raises(CidrError, match=match)


# ------------------------------------------------------------------------------------------
# Parsing shared by every function (exercised through service_ip / flannel_lease_key)
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "match"),
    [
        (None, r"subnet: None \(a NoneType\) is not a string in CIDR form"),
        (24, r"subnet: 24 \(a int\) is not a string"),
        ("172.20.5.0", r"'172.20.5.0' is not an IPv4 network in CIDR form"),
        ("172.20.5.0/33", r"'172.20.5.0/33' is not an IPv4 network in CIDR form"),
        ("172.20.5.0/024", r"'172.20.5.0/024' is not an IPv4 network"),
        ("172.20.5.0/ 24", r"'172.20.5.0/ 24' is not an IPv4 network"),
        ("172.20.5.0/+24", r"'172.20.5.0/\+24' is not an IPv4 network"),
        ("172.20.5.0/255.255.255.0", r"'172.20.5.0/255.255.255.0' is not an IPv4 network"),
        ("172.20.5/24", r"'172.20.5/24' is not an IPv4 network: '172.20.5' is not a dotted-quad"),
        ("172.20.5.256/24", r"'172.20.5.256/24' is not an IPv4 network"),
        ("172.020.5.0/24", r"'172.020.5.0/24' is not an IPv4 network"),
        (" 172.20.5.0/24", r"' 172.20.5.0/24' is not an IPv4 network"),
        ("fd00::/64", r"'fd00::/64' is not an IPv4 network"),
        ("172.20.5.1/24", r"'172.20.5.1/24' has host bits set; the network is 172.20.5.0/24"),
    ],
)
def test_malformed_cidr_names_argument_and_value(value, match):
    with raises(match):
        cidr.flannel_lease_key(value)


def test_cidr_error_is_a_value_error():
    assert issubclass(CidrError, ValueError)


# ------------------------------------------------------------------------------------------
# service_ip
# ------------------------------------------------------------------------------------------
def test_service_ip_real_site():
    assert cidr.service_ip(SERVICE, 1) == "172.21.0.1"
    assert cidr.service_ip(SERVICE, 2) == "172.21.0.2"


@pytest.mark.parametrize(
    ("network", "index", "expected"),
    [
        ("172.21.0.0/16", 10, "172.21.0.10"),
        ("172.21.0.0/16", 256, "172.21.1.0"),  # a .0 inside a /16 is a host address
        ("172.21.0.0/16", 65534, "172.21.255.254"),
        ("10.0.0.0/30", 2, "10.0.0.2"),
        ("10.96.0.0/12", 10, "10.96.0.10"),
    ],
)
def test_service_ip(network, index, expected):
    assert cidr.service_ip(network, index) == expected


@pytest.mark.parametrize(
    ("network", "index", "match"),
    [
        (
            SERVICE,
            0,
            r"index: 0 is outside service_cidr 172.21.0.0/16: .*1-65534 \(0 is the network",
        ),
        (SERVICE, -1, r"index: -1 is outside service_cidr 172.21.0.0/16"),
        (SERVICE, 65535, r"index: 65535 .* \(65535 is the broadcast address\)"),
        (SERVICE, 70000, r"index: 70000 is outside service_cidr 172.21.0.0/16"),
        (SERVICE, "1", r"index: '1' is not an integer"),
        (SERVICE, True, r"index: True \(a bool\) is not an integer"),
        (SERVICE, 1.0, r"index: 1.0 \(a float\) is not an integer"),
        ("10.0.0.0/31", 1, r"service_cidr: '10.0.0.0/31' has no host addresses"),
        ("10.0.0.1/32", 1, r"service_cidr: '10.0.0.1/32' has no host addresses"),
        ("172.21.0.1/16", 1, r"service_cidr: '172.21.0.1/16' has host bits set"),
        ("172.21.0.0", 1, r"service_cidr: '172.21.0.0' is not an IPv4 network"),
    ],
)
def test_service_ip_errors(network, index, match):
    with raises(match):
        cidr.service_ip(network, index)


# ------------------------------------------------------------------------------------------
# flannel_lease_key
# ------------------------------------------------------------------------------------------
def test_flannel_lease_key():
    assert cidr.flannel_lease_key("172.20.5.0/24") == "/coreos.com/network/subnets/172.20.5.0-24"
    assert cidr.flannel_lease_key("10.0.0.0/8", "/kubebin/network/") == (
        "/kubebin/network/subnets/10.0.0.0-8"
    )
    assert cidr.flannel_lease_key("10.0.0.0/8", "/") == "/subnets/10.0.0.0-8"


@pytest.mark.parametrize(
    ("prefix", "match"),
    [
        ("coreos.com/network", r"prefix: 'coreos.com/network' is not an etcd key prefix"),
        ("", r"prefix: '' is not an etcd key prefix"),
        ("/coreos.com/my network", r"prefix: '/coreos.com/my network' is not"),
        (None, r"prefix: None \(a NoneType\) is not an etcd key prefix"),
    ],
)
def test_flannel_lease_key_bad_prefix(prefix, match):
    with raises(match):
        cidr.flannel_lease_key("172.20.5.0/24", prefix)


# ------------------------------------------------------------------------------------------
# flannel_subnets
# ------------------------------------------------------------------------------------------
def test_flannel_subnets_real_site_skips_the_first_subnet():
    result = cidr.flannel_subnets(nodes_of(PROD_NODES), POD)
    assert result == {
        "dns1": "172.20.1.0/24",
        "master1": "172.20.2.0/24",
        "master2": "172.20.3.0/24",
        "master3": "172.20.4.0/24",
        "node1": "172.20.5.0/24",
        "node2": "172.20.6.0/24",
        "node3": "172.20.7.0/24",
        "router1": "172.20.8.0/24",
    }
    assert list(result) == sorted(result)  # ordered by name


def test_flannel_subnets_keeps_reservations_and_fills_the_lowest_gaps():
    reserved = {"node1": "172.20.3.0/24", "node2": "172.20.1.0/24"}
    nodes = nodes_of({"node1": "10.0.0.1", "node2": "10.0.0.2", "a": "10.0.0.3", "b": "10.0.0.4"})
    assert cidr.flannel_subnets(nodes, POD, 24, reserved) == {
        "a": "172.20.2.0/24",
        "b": "172.20.4.0/24",
        "node1": "172.20.3.0/24",
        "node2": "172.20.1.0/24",
    }


def test_flannel_subnets_releases_reservations_of_removed_nodes():
    reserved = {"gone": "172.20.1.0/24", "node1": "172.20.2.0/24"}
    nodes = nodes_of({"node1": "10.0.0.1", "new": "10.0.0.2"})
    assert cidr.flannel_subnets(nodes, POD, reserved=reserved) == {
        "new": "172.20.1.0/24",
        "node1": "172.20.2.0/24",
    }


def test_flannel_subnets_other_lengths_and_extra_keys():
    nodes = [{"name": "n1", "ip": "10.0.0.1", "role": "worker"}, {"name": "n2", "ip": "10.0.0.2"}]
    assert cidr.flannel_subnets(nodes, "10.244.0.0/16", 26) == {
        "n1": "10.244.0.64/26",
        "n2": "10.244.0.128/26",
    }
    assert cidr.flannel_subnets([], POD) == {}
    assert cidr.flannel_subnets(nodes, "10.0.0.0/28", 30) == {
        "n1": "10.0.0.4/30",
        "n2": "10.0.0.8/30",
    }


def test_flannel_subnets_fills_the_network_exactly():
    nodes = [{"name": "n%d" % i, "ip": "10.0.0.%d" % i} for i in range(1, 4)]
    assert cidr.flannel_subnets(nodes, "172.20.0.0/22", 24) == {
        "n1": "172.20.1.0/24",
        "n2": "172.20.2.0/24",
        "n3": "172.20.3.0/24",
    }


def test_flannel_subnets_exhausted_says_how_many():
    nodes = [{"name": "n%d" % i, "ip": "10.0.0.%d" % i} for i in range(1, 6)]
    with raises(
        r"pod_cidr: '172.20.0.0/22' is exhausted: it holds 3 subnets of /24 .* 5 nodes need one"
        r" \(1 keep a reserved subnet, 4 new\) and only 2 are free"
    ):
        cidr.flannel_subnets(nodes, "172.20.0.0/22", 24, {"n3": "172.20.2.0/24"})


@pytest.mark.parametrize(
    ("nodes", "match"),
    [
        ("node1", r"nodes: 'node1' is not a list"),
        ({"name": "n1", "ip": "10.0.0.1"}, r"nodes: .* is not a list"),
        (["n1"], r"nodes\[0\]: 'n1' is not a dictionary with name and ip"),
        ([{"name": "n1"}], r"nodes\[0\]: .* lacks a name or an ip key"),
        ([{"ip": "10.0.0.1"}], r"nodes\[0\]: .* lacks a name or an ip key"),
        ([{"name": "", "ip": "10.0.0.1"}], r"nodes\[0\].name: '' is not a non-empty node name"),
        ([{"name": 7, "ip": "10.0.0.1"}], r"nodes\[0\].name: 7 \(a int\) is not"),
        ([{"name": "n1", "ip": "10.0.0.256"}], r"nodes\[0\].ip: '10.0.0.256' is not an IPv4"),
        ([{"name": "n1", "ip": "10.0.0.0/24"}], r"nodes\[0\].ip: '10.0.0.0/24' is a network"),
        ([{"name": "n1", "ip": None}], r"nodes\[0\].ip: None \(a NoneType\) is not a string"),
        (
            [{"name": "n1", "ip": "10.0.0.1"}, {"name": "n1", "ip": "10.0.0.2"}],
            r"nodes\[1\].name: 'n1' is listed twice",
        ),
        (
            [{"name": "n1", "ip": "10.0.0.1"}, {"name": "n2", "ip": "10.0.0.1"}],
            r"nodes\[1\].ip: '10.0.0.1' of node 'n2' is also the ip of node 'n1'",
        ),
    ],
)
def test_flannel_subnets_bad_nodes(nodes, match):
    with raises(match):
        cidr.flannel_subnets(nodes, POD)


@pytest.mark.parametrize(
    ("pod_cidr", "subnet_len", "match"),
    [
        ("172.20.0.0/33", 24, r"pod_cidr: '172.20.0.0/33' is not an IPv4 network"),
        ("172.20.1.0/16", 24, r"pod_cidr: '172.20.1.0/16' has host bits set"),
        (POD, 31, r"subnet_len: 31 is longer than /30, which flanneld refuses"),
        (
            POD,
            17,
            r"subnet_len: 17 is too short for pod_cidr 172.20.0.0/16: .* >= prefix \+ 2 = 18",
        ),
        (POD, 16, r"subnet_len: 16 is too short"),
        (POD, 33, r"subnet_len: 33 is out of range 0-32"),
        (POD, "24", r"subnet_len: '24' is not an integer"),
        (POD, None, r"subnet_len: None \(a NoneType\) is not an integer"),
    ],
)
def test_flannel_subnets_bad_layout(pod_cidr, subnet_len, match):
    with raises(match):
        cidr.flannel_subnets([], pod_cidr, subnet_len)


@pytest.mark.parametrize(
    ("reserved", "match"),
    [
        (["172.20.1.0/24"], r"reserved: \['172.20.1.0/24'\] \(a list\) is not a dictionary"),
        (
            {"n1": "172.20.1.0/25"},
            r"reserved\['n1'\]: '172.20.1.0/25' is a /25 but subnet_len is 24",
        ),
        ({"n1": "172.21.1.0/24"}, r"reserved\['n1'\]: '172.21.1.0/24' is outside pod_cidr"),
        ({"n1": "172.19.255.0/24"}, r"reserved\['n1'\]: '172.19.255.0/24' is outside pod_cidr"),
        ({"n1": "172.20.0.0/24"}, r"reserved\['n1'\]: '172.20.0.0/24' is the first subnet"),
        ({"n1": "172.20.1.1/24"}, r"reserved\['n1'\]: '172.20.1.1/24' has host bits set"),
        ({"n1": "bogus"}, r"reserved\['n1'\]: 'bogus' is not an IPv4 network"),
        (
            {"n1": "172.20.1.0/24", "n2": "172.20.1.0/24"},
            r"reserved\['n2'\]: '172.20.1.0/24' is also reserved for 'n1'",
        ),
        (
            {"gone": "172.20.1.0/24", "n2": "172.20.1.0/24"},
            r"reserved\['n2'\]: '172.20.1.0/24' is also reserved for 'gone'",
        ),
        ({"": "172.20.1.0/24"}, r"reserved key: '' is not a non-empty node name"),
    ],
)
def test_flannel_subnets_bad_reservations(reserved, match):
    with raises(match):
        cidr.flannel_subnets(nodes_of({"n1": "10.0.0.1", "n2": "10.0.0.2"}), POD, 24, reserved)


def test_flannel_subnets_none_means_empty():
    assert cidr.flannel_subnets(None, POD, 24, None) == {}


# Hypothesis: node sets drawn from a small name space, pod networks of various sizes.
NAMES = st.text(alphabet="abcdefgh0123456789-", min_size=1, max_size=6)
LAYOUTS = st.sampled_from(
    [("172.20.0.0/16", 24), ("10.0.0.0/20", 24), ("10.1.0.0/22", 26), ("192.168.8.0/24", 28)]
)


def make_nodes(names):
    return [
        {"name": name, "ip": "10.%d.%d.%d" % (i >> 16, (i >> 8) & 255, i & 255)}
        for i, name in enumerate(names, 1)
    ]


def check_allocation(result, names, pod_cidr, subnet_len):
    pod = ipaddress.ip_network(pod_cidr)
    nets = [ipaddress.ip_network(s) for s in result.values()]
    assert set(result) == set(names)
    assert all(n.prefixlen == subnet_len and n.subnet_of(pod) for n in nets)
    assert all(n.network_address != pod.network_address for n in nets)  # never the first
    ordered = sorted(nets)
    assert all(a.broadcast_address < b.network_address for a, b in zip(ordered, ordered[1:]))


@settings(max_examples=150, deadline=None)
@given(layout=LAYOUTS, names=st.lists(NAMES, unique=True, max_size=14), data=st.data())
def test_property_subnets_disjoint_inside_and_order_independent(layout, names, data):
    pod_cidr, subnet_len = layout
    nodes = make_nodes(names)
    result = cidr.flannel_subnets(nodes, pod_cidr, subnet_len)
    check_allocation(result, names, pod_cidr, subnet_len)
    shuffled = data.draw(st.permutations(nodes))
    assert cidr.flannel_subnets(shuffled, pod_cidr, subnet_len) == result


@settings(max_examples=150, deadline=None)
@given(
    layout=LAYOUTS,
    first=st.lists(NAMES, unique=True, max_size=10),
    added=st.lists(NAMES, unique=True, max_size=10),
    removed=st.data(),
)
def test_property_adding_nodes_never_moves_a_node(layout, first, added, removed):
    pod_cidr, subnet_len = layout
    before = cidr.flannel_subnets(make_nodes(first), pod_cidr, subnet_len)
    # Some of the earlier nodes may have left in the meantime; the rest must not move.
    staying = removed.draw(st.lists(st.sampled_from(first), unique=True)) if first else []
    names = staying + [n for n in added if n not in staying]
    capacity = 2 ** (subnet_len - int(pod_cidr.split("/")[1])) - 1
    if len(names) > capacity:
        with raises("is exhausted: it holds %d subnets" % capacity):
            cidr.flannel_subnets(make_nodes(names), pod_cidr, subnet_len, before)
        return
    after = cidr.flannel_subnets(make_nodes(names), pod_cidr, subnet_len, before)
    check_allocation(after, names, pod_cidr, subnet_len)
    for name in staying:
        assert after[name] == before[name]


@settings(max_examples=50, deadline=None)
@given(count=st.integers(min_value=0, max_value=20))
def test_property_exhaustion_exactly_at_capacity(count):
    names = ["n%02d" % i for i in range(count)]
    capacity = 2 ** (28 - 24) - 1  # a /24 cut into /28s, the first one unused
    if count <= capacity:
        check_allocation(
            cidr.flannel_subnets(make_nodes(names), "10.9.9.0/24", 28), names, "10.9.9.0/24", 28
        )
    else:
        with raises("is exhausted: it holds 15 subnets of /28"):
            cidr.flannel_subnets(make_nodes(names), "10.9.9.0/24", 28)


# ------------------------------------------------------------------------------------------
# host_gw_routes
# ------------------------------------------------------------------------------------------
def test_host_gw_routes_real_site():
    subnets = cidr.flannel_subnets(nodes_of(PROD_NODES), POD)
    routes = cidr.host_gw_routes(subnets, PROD_NODES, NODE_CIDR)
    assert list(routes) == sorted(PROD_NODES)
    assert routes["dns1"][0] == {"dest": "172.20.2.0/24", "via": "192.168.1.91"}
    assert routes["router1"][-1] == {"dest": "172.20.7.0/24", "via": "192.168.1.96"}
    for node, node_routes in routes.items():
        assert len(node_routes) == len(PROD_NODES) - 1
        assert subnets[node] not in [r["dest"] for r in node_routes]
        dests = [ipaddress.ip_network(r["dest"]) for r in node_routes]
        assert dests == sorted(dests)
        for r in node_routes:
            other = next(n for n, s in subnets.items() if s == r["dest"])
            assert r["via"] == PROD_NODES[other]


def test_host_gw_routes_sorts_by_address_not_text():
    subnets = {"a": "10.0.10.0/24", "b": "10.0.9.0/24", "c": "10.0.100.0/24"}
    ips = {"a": "192.168.0.1", "b": "192.168.0.2", "c": "192.168.0.3"}
    routes = cidr.host_gw_routes(subnets, ips, "192.168.0.0/24")
    assert routes["a"] == [
        {"dest": "10.0.9.0/24", "via": "192.168.0.2"},
        {"dest": "10.0.100.0/24", "via": "192.168.0.3"},
    ]


def test_host_gw_routes_share_route_dicts_and_only():
    subnets = {"a": "10.0.1.0/24", "b": "10.0.2.0/24", "c": "10.0.3.0/24"}
    ips = {"a": "192.168.0.1", "b": "192.168.0.2", "c": "192.168.0.3"}
    routes = cidr.host_gw_routes(subnets, ips, "192.168.0.0/24")
    assert routes["a"][0] is routes["c"][1]  # b's route, built once
    only = cidr.host_gw_routes(subnets, ips, "192.168.0.0/24", only=["c", "a"])
    assert only == {"a": routes["a"], "c": routes["c"]}
    assert cidr.host_gw_routes(subnets, ips, "192.168.0.0/24", only=[]) == {}
    assert cidr.host_gw_routes({}, {}, "192.168.0.0/24") == {}
    assert cidr.host_gw_routes({"a": "10.0.1.0/24"}, {"a": "192.168.0.1"}, "192.168.0.0/24") == {
        "a": []
    }


@pytest.mark.parametrize(
    ("subnets", "ips", "node_cidr", "match"),
    [
        (
            {"a": "10.0.1.0/24"},
            {"a": "192.168.5.1"},
            "192.168.0.0/22",
            r"node_ips\['a'\]: '192.168.5.1' is not a host address of node_cidr 192.168.0.0/22;"
            r" flannel host-gw needs every node on that one L2 segment",
        ),
        (
            {"a": "10.0.1.0/24"},
            {"a": "192.168.0.0"},
            "192.168.0.0/22",
            r"node_ips\['a'\]: '192.168.0.0' is not a host address of node_cidr",
        ),
        (
            {"a": "10.0.1.0/24"},
            {"a": "192.168.3.255"},
            "192.168.0.0/22",
            r"node_ips\['a'\]: '192.168.3.255' is not a host address",
        ),
        (
            {"a": "10.0.1.0/24", "b": "10.0.2.0/24"},
            {"a": "192.168.0.1"},
            "192.168.0.0/22",
            r"node_ips: no ip for 'b', which node_subnets gives a subnet; every node needs both",
        ),
        (
            {"a": "10.0.1.0/24"},
            {"a": "192.168.0.1", "b": "192.168.0.2", "c": "192.168.0.3"},
            "192.168.0.0/22",
            r"node_subnets: no subnet for 'b', 'c', which node_ips lists",
        ),
        (
            {"a": "10.0.1.0/24", "b": "10.0.1.0/24"},
            {"a": "192.168.0.1", "b": "192.168.0.2"},
            "192.168.0.0/22",
            r"node_subnets: 10.0.1.0/24 of node '(a|b)' overlaps 10.0.1.0/24 of node '(a|b)'",
        ),
        (
            {"a": "10.0.0.0/16", "b": "10.0.1.0/24"},
            {"a": "192.168.0.1", "b": "192.168.0.2"},
            "192.168.0.0/22",
            r"node_subnets: 10.0.1.0/24 of node 'b' overlaps 10.0.0.0/16 of node 'a'",
        ),
        (
            {"a": "10.0.1.0/24", "b": "10.0.2.0/24"},
            {"a": "192.168.0.1", "b": "192.168.0.1"},
            "192.168.0.0/22",
            r"node_ips\['b'\]: '192.168.0.1' is also the ip of node 'a'",
        ),
        (
            {"a": "10.0.1.1/24"},
            {"a": "192.168.0.1"},
            "192.168.0.0/22",
            r"node_subnets\['a'\]: '10.0.1.1/24' has host bits set",
        ),
        (
            {"a": "10.0.1.0/24"},
            {"a": "192.168.0.x"},
            "192.168.0.0/22",
            r"node_ips\['a'\]: '192.168.0.x' is not an IPv4 address",
        ),
        (
            {"a": "10.0.1.0/24"},
            {"a": "192.168.0.1"},
            "192.168.0.1/22",
            r"node_cidr: '192.168.0.1/22' has host bits set; the network is 192.168.0.0/22",
        ),
        ({7: "10.0.1.0/24"}, {7: "192.168.0.1"}, "192.168.0.0/22", r"node_subnets key: 7"),
        (["a"], {}, "192.168.0.0/22", r"node_subnets: \['a'\] \(a list\) is not a dictionary"),
        ({}, "a=1", "192.168.0.0/22", r"node_ips: 'a=1' is not a dictionary"),
    ],
)
def test_host_gw_routes_errors(subnets, ips, node_cidr, match):
    with raises(match):
        cidr.host_gw_routes(subnets, ips, node_cidr)


def test_host_gw_routes_point_to_point_node_cidr_has_no_reserved_addresses():
    routes = cidr.host_gw_routes(
        {"a": "10.0.1.0/24", "b": "10.0.2.0/24"}, {"a": "10.9.0.0", "b": "10.9.0.1"}, "10.9.0.0/31"
    )
    assert routes["a"] == [{"dest": "10.0.2.0/24", "via": "10.9.0.1"}]


@pytest.mark.parametrize(
    ("only", "match"),
    [
        (["zzz"], r"only\[0\]: 'zzz' is not a node of node_subnets"),
        (["a", 3], r"only\[1\]: 3 \(a int\) is not a node"),
        ("a", r"only: 'a' is not a list"),
    ],
)
def test_host_gw_routes_bad_only(only, match):
    with raises(match):
        cidr.host_gw_routes({"a": "10.0.1.0/24"}, {"a": "192.168.0.1"}, "192.168.0.0/24", only)


# ------------------------------------------------------------------------------------------
# route_commands
# ------------------------------------------------------------------------------------------
REAL_ROUTES = {
    "linux": [
        "route add -net 172.20.0.0 netmask 255.255.0.0 gw 192.168.2.71",
        "route add -net 172.21.0.0 netmask 255.255.0.0 gw 192.168.2.71",
    ],
    "iproute2": [
        "ip route add 172.20.0.0/16 via 192.168.2.71",
        "ip route add 172.21.0.0/16 via 192.168.2.71",
    ],
    "windows": [
        "route -p add 172.20.0.0 mask 255.255.0.0 192.168.2.71",
        "route -p add 172.21.0.0 mask 255.255.0.0 192.168.2.71",
    ],
    "cisco": [
        "ip route 172.20.0.0 255.255.0.0 192.168.2.71",
        "ip route 172.21.0.0 255.255.0.0 192.168.2.71",
    ],
    "h3c": [
        "ip route-static 172.20.0.0 16 192.168.2.71",
        "ip route-static 172.21.0.0 16 192.168.2.71",
    ],
}


@pytest.mark.parametrize("style", sorted(REAL_ROUTES))
def test_route_commands_real_site(style):
    assert cidr.route_commands([SERVICE, POD], ROUTER, style) == REAL_ROUTES[style]
    assert set(cidr.ROUTE_STYLES) == set(REAL_ROUTES)


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        ("linux", "route add -host 10.1.2.3 gw 192.168.2.71"),
        ("iproute2", "ip route add 10.1.2.3/32 via 192.168.2.71"),
        ("windows", "route -p add 10.1.2.3 mask 255.255.255.255 192.168.2.71"),
        ("cisco", "ip route 10.1.2.3 255.255.255.255 192.168.2.71"),
        ("h3c", "ip route-static 10.1.2.3 32 192.168.2.71"),
    ],
)
def test_route_commands_host_routes(style, expected):
    assert cidr.route_commands(["10.1.2.3/32"], ROUTER, style) == [expected]
    assert cidr.route_commands(["10.1.2.3"], ROUTER, style) == [expected]  # bare address: /32


def test_route_commands_drops_duplicates_and_contained_keeps_adjacent():
    dests = [SERVICE, "172.20.5.0/24", POD, "172.20.0.0/16", "172.21.9.9/32", "10.0.0.0/8"]
    assert cidr.route_commands(dests, ROUTER, "iproute2") == [
        "ip route add 10.0.0.0/8 via 192.168.2.71",
        "ip route add 172.20.0.0/16 via 192.168.2.71",
        "ip route add 172.21.0.0/16 via 192.168.2.71",
    ]


def test_route_commands_merge():
    dests = [SERVICE, POD, "172.20.5.0/24", "10.0.0.0/9", "10.128.0.0/9"]
    assert cidr.route_commands(dests, ROUTER, "cisco", merge=True) == [
        "ip route 10.0.0.0 255.0.0.0 192.168.2.71",
        "ip route 172.20.0.0 255.254.0.0 192.168.2.71",
    ]


def test_route_commands_edge_cases():
    assert cidr.route_commands([], ROUTER, "linux") == []
    assert cidr.route_commands(None, ROUTER, "linux") == []
    assert cidr.route_commands(["0.0.0.0/0"], ROUTER, "linux") == [
        "route add -net 0.0.0.0 netmask 0.0.0.0 gw 192.168.2.71"
    ]
    # A gateway inside a wider destination is fine: its connected route is more specific.
    assert cidr.route_commands([OFFICE], ROUTER, "h3c") == [
        "ip route-static 192.168.0.0 16 192.168.2.71"
    ]


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (
            ([POD], ROUTER, "juniper"),
            r"style: 'juniper' is not a known style; valid styles:"
            r" cisco, h3c, iproute2, linux, windows",
        ),
        (([POD], ROUTER, None), r"style: None \(a NoneType\) is not a known style"),
        (([POD], ROUTER, "linux", "yes"), r"merge: 'yes' is not a boolean"),
        (([POD], "192.168.2.710", "linux"), r"gateway: '192.168.2.710' is not an IPv4 address"),
        (([POD], "192.168.2.0/24", "linux"), r"gateway: '192.168.2.0/24' is a network"),
        (([POD], None, "linux"), r"gateway: None \(a NoneType\) is not a string"),
        (([POD], "0.0.0.0", "linux"), r"gateway: '0.0.0.0' is not a unicast host address"),
        (([POD], "255.255.255.255", "linux"), r"gateway: '255.255.255.255' is not a unicast"),
        (([POD], "224.0.0.5", "linux"), r"gateway: '224.0.0.5' is not a unicast host address"),
        ((POD, ROUTER, "linux"), r"dests: '172.20.0.0/16' is not a list"),
        (([POD, "172.21.0.0/33"], ROUTER, "linux"), r"dests\[1\]: '172.21.0.0/33' is not an IPv4"),
        (([POD, "172.21.0.1/16"], ROUTER, "linux"), r"dests\[1\]: '172.21.0.1/16' has host bits"),
        (([POD, "172.21.0.x"], ROUTER, "linux"), r"dests\[1\]: '172.21.0.x' is not an IPv4"),
        (([POD, 5], ROUTER, "linux"), r"dests\[1\]: 5 \(a int\) is not a string"),
        (([ROUTER], ROUTER, "linux"), r"dests: 192.168.2.71/32 is the gateway itself"),
    ],
)
def test_route_commands_errors(args, match):
    with raises(match):
        cidr.route_commands(*args)


# ------------------------------------------------------------------------------------------
# dnsmasq_split
# ------------------------------------------------------------------------------------------
def test_dnsmasq_split_real_site():
    assert cidr.dnsmasq_split("cluster.local", "192.168.1.97", ["114.114.114.114"]) == [
        "no-resolv",
        "server=/cluster.local/192.168.1.97",
        "server=114.114.114.114",
    ]


def test_dnsmasq_split_reverse_zones_and_domains():
    lines = cidr.dnsmasq_split(
        "cluster.local",
        "192.168.1.97",
        ["114.114.114.114", "223.5.5.5#53", "2001:db8::53", "114.114.114.114"],
        [POD, SERVICE, "svc.Example.com", "10.0.0.0/8", "192.168.1.0/24", "192.168.1.5/32"],
    )
    assert lines == [
        "no-resolv",
        "server=/cluster.local/192.168.1.97",
        "server=/20.172.in-addr.arpa/192.168.1.97",
        "server=/21.172.in-addr.arpa/192.168.1.97",
        "server=/svc.Example.com/192.168.1.97",
        "server=/10.in-addr.arpa/192.168.1.97",
        "server=/1.168.192.in-addr.arpa/192.168.1.97",
        "server=/5.1.168.192.in-addr.arpa/192.168.1.97",
        "server=114.114.114.114",
        "server=223.5.5.5#53",
        "server=2001:db8::53",
    ]


def test_dnsmasq_split_expands_non_octet_prefixes_to_covering_zones():
    lines = cidr.dnsmasq_split("cluster.local", "10.0.0.2#5353", ["1.1.1.1"], ["172.16.0.0/12"])
    zones = [line.split("/")[1] for line in lines[2:-1]]
    assert zones == ["%d.172.in-addr.arpa" % i for i in range(16, 32)]
    assert lines[1] == "server=/cluster.local/10.0.0.2#5353"
    lines = cidr.dnsmasq_split("cluster.local", "10.0.0.2", ["1.1.1.1"], ["10.1.2.0/23"])
    assert lines[2:4] == [
        "server=/2.1.10.in-addr.arpa/10.0.0.2",
        "server=/3.1.10.in-addr.arpa/10.0.0.2",
    ]


def test_dnsmasq_split_drops_repeated_domains():
    lines = cidr.dnsmasq_split("cluster.local", "10.0.0.2", ["1.1.1.1"], ["Cluster.Local"])
    assert lines == ["no-resolv", "server=/cluster.local/10.0.0.2", "server=1.1.1.1"]


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("cluster_local",), r"cluster_domain: 'cluster_local' is not a valid domain name: label"),
        (("cluster.local.",), r"cluster_domain: 'cluster.local.' .* without the trailing dot"),
        (("-cluster.local",), r"cluster_domain: '-cluster.local' is not a valid domain name"),
        (("cluster..local",), r"cluster_domain: 'cluster..local' is not a valid domain name"),
        (("a" * 64 + ".local",), r"cluster_domain: 'a{64}.local' is not a valid domain name"),
        ((("a" * 60 + ".") * 5 + "local",), r"longer than 253 characters"),
        (("",), r"cluster_domain: '' is not a domain name"),
        ((None,), r"cluster_domain: None \(a NoneType\) is not a domain name"),
        (("10.0.0.1",), r"cluster_domain: '10.0.0.1' looks like an address, not a domain"),
        (("cluster.local", "192.168.1.970"), r"proxy_ip: '192.168.1.970' is not an IP address"),
        (("cluster.local", "192.168.1.97#0"), r"proxy_ip: '192.168.1.97#0' has an invalid #port"),
        (("cluster.local", "192.168.1.97#70000"), r"proxy_ip: .* has an invalid #port"),
        (("cluster.local", "192.168.1.97#"), r"proxy_ip: '192.168.1.97#' has an invalid #port"),
        (("cluster.local", ["192.168.1.97"]), r"proxy_ip: \['192.168.1.97'\] \(a list\) is not"),
        (("cluster.local", "10.0.0.2", []), r"upstreams: \[\] \(a list\) is empty; with no-resolv"),
        (("cluster.local", "10.0.0.2", None), r"upstreams: None \(a NoneType\) is empty"),
        (("cluster.local", "10.0.0.2", "1.1.1.1"), r"upstreams: '1.1.1.1' is not a list"),
        (("cluster.local", "10.0.0.2", ["1.1.1.1", "dns.google"]), r"upstreams\[1\]: 'dns.google'"),
        (
            ("cluster.local", "10.0.0.2", ["1.1.1.1"], "x.com"),
            r"extra_domains: 'x.com' is not a list",
        ),
        (("cluster.local", "10.0.0.2", ["1.1.1.1"], ["a_b.com"]), r"extra_domains\[0\]: 'a_b.com'"),
        (("cluster.local", "10.0.0.2", ["1.1.1.1"], ["10.0.0.0/7"]), r"wider than a /8"),
        (
            ("cluster.local", "10.0.0.2", ["1.1.1.1"], ["10.0.0.1/8"]),
            r"extra_domains\[0\]: .* host",
        ),
        (
            ("cluster.local", "10.0.0.2", ["1.1.1.1"], ["10.0.0.0/40"]),
            r"extra_domains\[0\]: '10.0.",
        ),
        (("cluster.local", "10.0.0.2", ["1.1.1.1"], [8]), r"extra_domains\[0\]: 8 \(a int\)"),
    ],
)
def test_dnsmasq_split_errors(args, match):
    defaults = ("cluster.local", "192.168.1.97", ["114.114.114.114"])
    args = args + defaults[len(args) :]
    with raises(match):
        cidr.dnsmasq_split(*args)


# ------------------------------------------------------------------------------------------
# cluster_check
# ------------------------------------------------------------------------------------------
PROD_SETTINGS = {
    "pod_cidr": POD,
    "service_cidr": SERVICE,
    "node_cidrs": [NODE_CIDR],
    "office_cidrs": [OFFICE],
    "dns_ip": "172.21.0.2",
    "apiserver_service_ip": "172.21.0.1",
    "subnet_len": 24,
    "node_count": 8,
}


def check(**changes):
    return cidr.cluster_check({**PROD_SETTINGS, **changes})


def test_cluster_check_real_site_is_sound():
    assert cidr.cluster_check(PROD_SETTINGS) == []
    assert cidr.cluster_check({"pod_cidr": POD, "service_cidr": SERVICE}) == []
    assert check(dns_ip=None, node_cidrs=None, subnet_len=None, node_count=None) == []


def test_cluster_check_host_bits():
    assert check(pod_cidr="172.20.1.0/16") == [
        "pod_cidr 172.20.1.0/16 has host bits set: the network is 172.20.0.0/16 - write that"
    ]
    assert check(office_cidrs=["192.168.1.0/16"]) == [
        "office_cidrs[0] 192.168.1.0/16 has host bits set: the network is 192.168.0.0/16"
        " - write that"
    ]


def test_cluster_check_overlaps_name_both_settings_and_suggest_a_free_range():
    problems = check(pod_cidr="192.168.0.0/16")
    assert problems == [
        "pod_cidr 192.168.0.0/16 overlaps node_cidrs[0] 192.168.0.0/22: traffic for one would be"
        " routed to the other; move pod_cidr to a free range, e.g. 10.0.0.0/16",
        "pod_cidr 192.168.0.0/16 overlaps office_cidrs[0] 192.168.0.0/16: traffic for one would"
        " be routed to the other; move pod_cidr to a free range, e.g. 10.0.0.0/16",
    ]
    problems = check(service_cidr="172.20.128.0/17", dns_ip=None, apiserver_service_ip=None)
    assert problems == [
        "pod_cidr 172.20.0.0/16 overlaps service_cidr 172.20.128.0/17: traffic for one would be"
        " routed to the other; move service_cidr to a free range, e.g. 10.0.0.0/17"
    ]


def test_cluster_check_suggestions_do_not_collide():
    problems = check(
        pod_cidr="192.168.0.0/20",
        service_cidr="192.168.16.0/20",
        office_cidrs=["192.168.0.0/16", "10.0.0.0/8"],
        dns_ip=None,
        apiserver_service_ip=None,
    )
    assert any("move pod_cidr to a free range, e.g. 172.16.0.0/20" in p for p in problems)
    assert any("move service_cidr to a free range, e.g. 172.16.16.0/20" in p for p in problems)


def test_cluster_check_node_and_office_networks_may_overlap_each_other():
    assert (
        check(node_cidrs=["192.168.0.0/22", "192.168.0.0/24"], office_cidrs=[OFFICE, OFFICE]) == []
    )


def test_cluster_check_no_free_range_left():
    problems = check(
        pod_cidr="10.0.0.0/8", office_cidrs=["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
    )
    assert any(p.endswith("move pod_cidr to a free range") for p in problems)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"dns_ip": "172.21.0.0"},
            "dns_ip 172.21.0.0 is the network address of service_cidr 172.21.0.0/16, not a host"
            " address - use 172.21.0.2 (service_cidr | kubebin.cluster.service_ip(2))",
        ),
        (
            {"dns_ip": "172.21.255.255"},
            "dns_ip 172.21.255.255 is the broadcast address of service_cidr 172.21.0.0/16, not a"
            " host address - use 172.21.0.2 (service_cidr | kubebin.cluster.service_ip(2))",
        ),
        (
            {"dns_ip": "10.254.0.2"},
            "dns_ip 10.254.0.2 is outside service_cidr 172.21.0.0/16: a service IP must come from"
            " the service network - use 172.21.0.2 (service_cidr | kubebin.cluster.service_ip(2))",
        ),
        (
            {"dns_ip": "172.21.0.1"},
            "dns_ip 172.21.0.1 is the first host address of service_cidr 172.21.0.0/16, which"
            " kube-apiserver takes for the kubernetes service - use 172.21.0.2"
            " (service_cidr | kubebin.cluster.service_ip(2))",
        ),
        (
            {"apiserver_service_ip": "172.21.0.10"},
            "apiserver_service_ip 172.21.0.10 is not the first host address of service_cidr"
            " 172.21.0.0/16: kube-apiserver always gives the kubernetes service 172.21.0.1 - use"
            " that (the apiserver certificate's SANs must match it)",
        ),
        (
            {"apiserver_service_ip": "172.21.0.0"},
            "apiserver_service_ip 172.21.0.0 is the network address of service_cidr"
            " 172.21.0.0/16, not a host address - use 172.21.0.1"
            " (service_cidr | kubebin.cluster.service_ip(1))",
        ),
        (
            {"service_cidr": "10.0.0.0/8", "dns_ip": None, "apiserver_service_ip": None},
            "service_cidr 10.0.0.0/8 is too large: kube-apiserver refuses a service range with"
            " more than 20 host bits; use a /12 or longer prefix",
        ),
        (
            {"service_cidr": "172.21.0.0/31", "dns_ip": None, "apiserver_service_ip": None},
            "service_cidr 172.21.0.0/31 has no room for services; use a /30 or shorter prefix"
            " (a /24 or more in practice)",
        ),
        (
            {"subnet_len": 31},
            "subnet_len 31 is longer than /30, which flanneld refuses; use /24 (or up to /30)",
        ),
        (
            {"subnet_len": 16},
            "subnet_len 16 is not long enough for pod_cidr 172.20.0.0/16: flanneld needs"
            " subnet_len >= prefix + 2 = 18 (at least four subnets); use subnet_len 18 or more,"
            " or a larger pod_cidr",
        ),
        (
            {"node_count": 256},
            "pod_cidr 172.20.0.0/16 with subnet_len 24 has room for 255 nodes (flanneld never"
            " leases the first subnet) but node_count is 256; use a pod_cidr of /15 or shorter"
            " or subnet_len 25 (smaller per-node subnets)",
        ),
        (
            {"node_count": 2000, "subnet_len": 30, "pod_cidr": "172.20.0.0/24"},
            "pod_cidr 172.20.0.0/24 with subnet_len 30 has room for 63 nodes (flanneld never"
            " leases the first subnet) but node_count is 2000; use a pod_cidr of /19 or shorter",
        ),
    ],
)
def test_cluster_check_single_problem(changes, expected):
    assert check(**changes) == [expected]


def test_cluster_check_dns_ip_equal_to_a_wrong_apiserver_ip():
    problems = check(apiserver_service_ip="172.21.0.5", dns_ip="172.21.0.5")
    assert problems[1] == (
        "dns_ip 172.21.0.5 is also apiserver_service_ip; each service needs its own IP - use"
        " 172.21.0.2 (service_cidr | kubebin.cluster.service_ip(2))"
    )


def test_cluster_check_capacity_at_the_limit():
    assert check(node_count=255) == []
    assert check(node_count=0) == []


@pytest.mark.parametrize(
    ("settings", "match"),
    [
        ("pod_cidr=1", r"settings: 'pod_cidr=1' is not a dictionary"),
        ({"service_cidr": SERVICE}, r"settings.pod_cidr: is required"),
        ({"pod_cidr": POD, "service_cidr": None}, r"settings.service_cidr: is required"),
        ({**PROD_SETTINGS, "pod_cdir": POD}, r"settings: unknown key\(s\) 'pod_cdir'; valid keys:"),
        ({**PROD_SETTINGS, "pod_cidr": "172.20.0.0"}, r"settings.pod_cidr: '172.20.0.0' is not"),
        ({**PROD_SETTINGS, "service_cidr": 5}, r"settings.service_cidr: 5 \(a int\) is not"),
        (
            {**PROD_SETTINGS, "node_cidrs": NODE_CIDR},
            r"settings.node_cidrs: '192.168.0.0/22' is not a list",
        ),
        (
            {**PROD_SETTINGS, "office_cidrs": ["x"]},
            r"settings.office_cidrs\[0\]: 'x' is not an IPv4",
        ),
        ({**PROD_SETTINGS, "dns_ip": "172.21.0.2/16"}, r"dns_ip: '172.21.0.2/16' is a network"),
        ({**PROD_SETTINGS, "dns_ip": "172.21.0.256"}, r"dns_ip: '172.21.0.256' is not an IPv4"),
        ({**PROD_SETTINGS, "apiserver_service_ip": 1}, r"apiserver_service_ip: 1 \(a int\) is not"),
        ({**PROD_SETTINGS, "subnet_len": "24"}, r"settings.subnet_len: '24' is not an integer"),
        ({**PROD_SETTINGS, "subnet_len": 40}, r"settings.subnet_len: 40 is out of range 0-32"),
        ({**PROD_SETTINGS, "node_count": -1}, r"settings.node_count: -1 is out of range"),
        ({**PROD_SETTINGS, "node_count": True}, r"settings.node_count: True \(a bool\) is not"),
    ],
)
def test_cluster_check_malformed_values_raise(settings, match):
    with raises(match):
        cidr.cluster_check(settings)


# ------------------------------------------------------------------------------------------
# stale_routes
# ------------------------------------------------------------------------------------------
LIVE = [
    "default via 10.250.4.1 dev eth0",
    "10.250.4.0/24 dev eth0 proto kernel scope link src 10.250.4.31",
    "172.20.1.0/24 via 10.250.4.11 dev eth0",
    "172.20.2.0/24 via 10.250.4.21 dev eth0",
    "172.20.3.0/24 via 10.250.4.22 dev eth0",
    "172.21.0.0/16 via 10.250.4.21 dev eth0",
    "172.20.9.9 via 10.250.4.22 dev eth0",
    "10.9.0.0/16 via 10.250.4.1 dev eth0",
]


def test_stale_routes_are_the_owned_ones_no_longer_wanted():
    wanted = [
        {"dest": "172.20.1.0/24", "via": "10.250.4.11"},
        {"dest": "172.20.2.0/24", "via": "10.250.4.21"},
    ]
    assert cidr.stale_routes(LIVE, wanted, ["172.20.0.0/16"]) == [
        {"dest": "172.20.3.0/24", "via": "10.250.4.22"},
        {"dest": "172.20.9.9/32", "via": "10.250.4.22"},
    ]
    # The service route, the host's link and other networks are not the pod network's.
    assert (
        cidr.stale_routes(
            LIVE, [*wanted, {"dest": "172.20.3.0/24"}, {"dest": "172.20.9.9/32"}], ["172.20.0.0/16"]
        )
        == []
    )
    # A route covering the owned network (wider than it) is not inside it.
    assert cidr.stale_routes(["172.0.0.0/8 via 10.0.0.1 dev x"], [], ["172.20.0.0/16"]) == []
    assert cidr.stale_routes(LIVE, [], []) == []


def test_stale_routes_bad_input_names_the_argument():
    with raises(r"owned\[0\]: 'nope'"):
        cidr.stale_routes(LIVE, [], ["nope"])
    with raises(r"wanted\[0\]: 'x' is not a route"):
        cidr.stale_routes(LIVE, ["x"], ["172.20.0.0/16"])


def test_route_files_one_per_style_with_its_comment_and_line_ending():
    files = cidr.route_files(
        ["172.21.0.0/16", "172.20.0.0/16"], "192.168.2.71", ["linux", "windows"]
    )
    assert [f["path"] for f in files] == ["linux.sh", "windows.bat"]
    linux, windows = (f["content"] for f in files)
    assert linux.splitlines()[0] == (
        "# Routes to the Kubernetes pod and service networks via the router 192.168.2.71"
        " (linux syntax)."
    )
    assert linux.endswith("\n") and "\r" not in linux
    assert linux.splitlines()[2:] == cidr.route_commands(
        ["172.20.0.0/16", "172.21.0.0/16"], "192.168.2.71", "linux"
    )
    assert windows.startswith("REM Routes") and windows.endswith("\r\n")
    assert windows.count("\r\n") == 4
    assert {f["mode"] for f in files} == {"0644"}


def test_route_files_name_an_unknown_style():
    with pytest.raises(CidrError, match="styles: 'juniper' is not a known style"):
        cidr.route_files(["172.20.0.0/16"], "192.168.2.71", ["linux", "juniper"])
