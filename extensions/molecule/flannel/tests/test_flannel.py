"""Verify flannel host-gw with permanent reservations: etcd keys, subnets, routes, restarts."""

import json
import os
import re

import pytest
import testinfra

NODES = {"kb-fl-n1": "10.250.2.21", "kb-fl-n2": "10.250.2.22"}
PREFIX = "/coreos.com/network"
V2 = "bash -lc 'source /etc/profile.d/etcdctl.sh && ETCDCTL_API=2 etcdctl {}'"


def get_host(name):
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={inventory}")


@pytest.fixture(scope="module")
def etcd():
    return get_host("kb-fl-e1")


def v2_get(etcd, key):
    """(value, ttl) of a v2 key, from etcdctl's extended output (TTL 0 = no TTL)."""
    out = etcd.run(V2.format(f"-o extended get {key}"))
    assert out.rc == 0, out.stderr
    ttl = int(re.search(r"^TTL: (\d+)", out.stdout, re.M).group(1))
    value = out.stdout.strip().splitlines()[-1]
    return json.loads(value), ttl


def subnets(etcd):
    out = etcd.run(V2.format(f"ls {PREFIX}/subnets"))
    assert out.rc == 0, out.stderr
    found = {}
    for key in out.stdout.split():
        value, ttl = v2_get(etcd, key)
        found[key] = (value, ttl)
    return found


def node_subnet(etcd, ip):
    keys = [k for k, (v, _ttl) in subnets(etcd).items() if v["PublicIP"] == ip]
    assert len(keys) == 1, keys
    return keys[0].rsplit("/", 1)[1].replace("-", "/")


def test_network_config(etcd):
    config, ttl = v2_get(etcd, f"{PREFIX}/config")
    assert config == {"Network": "172.20.0.0/16", "SubnetLen": 24, "Backend": {"Type": "host-gw"}}
    assert ttl == 0


def test_every_node_has_a_reservation_without_ttl(etcd):
    found = subnets(etcd)
    for ip in NODES.values():
        mine = [(k, v, t) for k, (v, t) in found.items() if v["PublicIP"] == ip]
        assert len(mine) == 1, f"{ip}: {mine}"
        key, value, ttl = mine[0]
        assert ttl == 0, f"{key} has a TTL: it is a lease, not a reservation"
        assert value["BackendType"] == "host-gw"


def test_a_converted_lease_keeps_its_value_and_loses_its_ttl(etcd):
    value, ttl = v2_get(etcd, f"{PREFIX}/subnets/172.20.200.0-24")
    assert value == {"PublicIP": "10.250.2.99", "BackendType": "host-gw"}
    assert ttl == 0


@pytest.mark.parametrize("name", sorted(NODES))
def test_subnet_file_is_the_reservation(etcd, name):
    node = get_host(name)
    env = dict(
        line.split("=", 1)
        for line in node.file("/run/flannel/subnet.env").content_string.splitlines()
        if "=" in line
    )
    subnet = node_subnet(etcd, NODES[name])
    assert env["FLANNEL_NETWORK"] == "172.20.0.0/16"
    network, length = subnet.split("/")
    assert env["FLANNEL_SUBNET"] == network.rsplit(".", 1)[0] + ".1/" + length
    docker_opts = node.file("/run/flannel/docker").content_string
    assert f"--bip={env['FLANNEL_SUBNET']}" in docker_opts


@pytest.mark.parametrize("name", sorted(NODES))
def test_host_gw_routes_to_the_other_nodes(etcd, name):
    node = get_host(name)
    routes = node.check_output("ip route")
    for other, ip in NODES.items():
        if other == name:
            continue
        assert f"{node_subnet(etcd, ip)} via {ip} " in routes, routes


@pytest.mark.parametrize("name", sorted(NODES))
def test_restart_keeps_the_subnet_and_the_reservation(etcd, name):
    node = get_host(name)
    before = node.file("/var/tmp/subnet.env.before-restart").content_string
    assert node.file("/run/flannel/subnet.env").content_string == before
    journal = node.check_output("journalctl -u flanneld --no-pager")
    assert "reusing" in journal  # "Found lease (...) for current IP (...), reusing"
    assert "2562046h" in journal  # a reservation never needs renewing
    assert "Lease has been revoked" not in journal
    _value, ttl = v2_get(
        etcd, f"{PREFIX}/subnets/{node_subnet(etcd, NODES[name]).replace('/', '-')}"
    )
    assert ttl == 0


@pytest.mark.parametrize("name", sorted(NODES))
def test_flanneld_unit_restarts_always(name):
    unit = get_host(name).file("/etc/systemd/system/flanneld.service").content_string
    assert "Restart=always" in unit
    assert "--etcd-certfile=/etc/flannel/pki/flanneld.crt" in unit
    assert "http://" not in unit
