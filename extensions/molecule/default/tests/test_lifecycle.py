"""Nodes leave and join a running cluster (playbooks/ops/remove_node.yml, add_node.yml).

Runs after test_cluster.py on the same converged cluster (the default scenario), in order:
node2 is removed (drained, deleted, services stopped, its flannel key moved to the kept
subnets: routes to it gone from node1 and the router), its host is rebuilt from scratch (a
new lab container, same address),
and add_node.yml adds it back: the same subnet, node1's lease byte-identical and none of its
services restarted, node2 Ready, pod-to-pod both ways, the router's routes equal to etcd's
reservations exactly.
"""

import ipaddress
import json
import os
import re
import subprocess

import pytest
from lab import PROJECT, ensure_test_image, playbook, wait_for, web_container
from lab import get_host as host

MASTER = "kb-cl-m1"
NODE1, NODE2 = "kb-cl-n1", "kb-cl-n2"
IPS = {"kb-cl-m1": "10.250.4.11", NODE1: "10.250.4.21", NODE2: "10.250.4.22"}
ROUTER = "kb-cl-r1"
POD_CIDR = ipaddress.ip_network("172.20.0.0/16")
PREFIX = "/coreos.com/network"
KEPT = "/kubebin/kept-subnets"
V2 = "bash -lc 'source /etc/profile.d/etcdctl.sh && ETCDCTL_API=2 etcdctl {}'"
KUBECTL = "kubectl --kubeconfig /etc/kubernetes/admin.conf "
NODE1_UNITS = ["flanneld", "docker", "kubelet", "kube-proxy"]
STATE = {}


def lab(*args):
    proc = subprocess.run(
        [str(PROJECT / "tools" / "lab" / "lab.sh"), *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def etcd_keys(master, prefix):
    """{key: (value, ttl, modified index)} under a v2 prefix (TTL 0 = permanent)."""
    listed = master.run(V2.format(f"ls --recursive {prefix}"))
    if listed.rc != 0:
        return {}
    found = {}
    for key in listed.stdout.split():
        out = master.run(V2.format(f"-o extended get {key}"))
        if out.rc != 0:  # a directory
            continue
        ttl = int(re.search(r"^TTL: (\d+)", out.stdout, re.M).group(1))
        index = int(re.search(r"^Modified-Index: (\d+)", out.stdout, re.M).group(1))
        found[key] = (out.stdout.strip().splitlines()[-1], ttl, index)
    return found


def reservations(master):
    """{subnet: PublicIP} of flannel's subnet keys."""
    return {
        k.rsplit("/", 1)[1].replace("-", "/"): json.loads(v)["PublicIP"]
        for k, (v, _ttl, _index) in etcd_keys(master, f"{PREFIX}/subnets").items()
    }


def pod_routes(node):
    """{subnet: next hop} of the gateway routes into the pod network."""
    routes = {}
    for line in node.run("ip -4 route show").stdout.splitlines():
        words = line.split()
        if (
            "via" in words
            and "/" in words[0]
            and ipaddress.ip_network(words[0]).subnet_of(POD_CIDR)
        ):
            routes[words[0]] = words[words.index("via") + 1]
    return routes


def unit_starts(node):
    """{unit: (MainPID, ActiveEnterTimestampMonotonic)}: a restart changes both."""
    out = node.run(
        "systemctl show -p Id,MainPID,ActiveEnterTimestampMonotonic " + " ".join(NODE1_UNITS)
    )
    assert out.rc == 0, out.stderr
    starts = {}
    for block in out.stdout.strip().split("\n\n"):
        props = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        starts[props["Id"]] = (props["MainPID"], props["ActiveEnterTimestampMonotonic"])
    return starts


@pytest.fixture(scope="module")
def master():
    return host(MASTER)


def test_remove_node2(master):
    node1, router = host(NODE1), host(ROUTER)
    subnets = reservations(master)
    STATE["subnet"] = next(s for s, ip in subnets.items() if ip == IPS[NODE2])
    STATE["node1_lease"] = {
        k: v for k, v in etcd_keys(master, f"{PREFIX}/subnets").items() if IPS[NODE1] in v[0]
    }
    assert len(STATE["node1_lease"]) == 1, STATE["node1_lease"]
    STATE["node1_units"] = unit_starts(node1)
    assert pod_routes(router) == subnets  # before: the router reaches every node's subnet
    # ...and the service network through one node, once (live and in the boot-time unit).
    live = [
        x
        for x in router.run("ip -4 route show").stdout.splitlines()
        if x.startswith("172.21.0.0/16 ")
    ]
    assert len(live) == 1 and live[0].startswith(f"172.21.0.0/16 via {IPS[NODE1]} "), live
    unit = router.file("/etc/systemd/system/kubebin-router-routes.service").content_string
    assert unit.count("ip route replace 172.21.0.0/16 ") == 1, unit

    playbook("ops/remove_node.yml", "-e", f"remove_nodes={NODE2}")

    nodes = json.loads(master.run(KUBECTL + "get nodes -o json").stdout)["items"]
    assert [n["metadata"]["name"] for n in nodes] == [NODE1]
    after = reservations(master)
    assert STATE["subnet"] not in after and after == {
        s: ip for s, ip in subnets.items() if ip != IPS[NODE2]
    }
    kept = etcd_keys(master, KEPT)
    key = f"{KEPT}/{STATE['subnet'].replace('/', '-')}"
    assert set(kept) == {key}, kept
    assert json.loads(kept[key][0]) == {"node": NODE2, "PublicIP": IPS[NODE2]}
    assert kept[key][1] == 0  # permanent: no TTL
    # flanneld on node1 drops its route (it watches etcd); the router's route was deleted.
    wait_for(
        "node1's route to node2's subnet to go",
        lambda: STATE["subnet"] not in pod_routes(node1),
        timeout=60,
    )
    assert pod_routes(router) == after
    node2 = host(NODE2)
    for unit in ("kubelet", "kube-proxy", "docker", "flanneld"):
        assert not node2.service(unit).is_running, unit
        assert not node2.service(unit).is_enabled, unit
    # node1 kept everything: its lease and its running services.
    assert {
        k: v for k, v in etcd_keys(master, f"{PREFIX}/subnets").items() if IPS[NODE1] in v[0]
    } == STATE["node1_lease"]
    assert unit_starts(node1) == STATE["node1_units"]


def test_a_second_removal_changes_nothing(master):
    out = playbook("ops/remove_node.yml", "-e", f"remove_nodes={NODE2}")
    recap = dict(re.findall(r"^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)", out, re.M))
    assert recap and set(recap.values()) == {"0"}, out[-3000:]


def test_rebuilt_node2_joins_with_add_node_and_gets_its_subnet_back(master):
    assert "subnet" in STATE, "test_remove_node2 did not run"
    network = "kubebin-mol-" + os.environ.get("MOLECULE_SCENARIO_NAME", "default")
    lab("host-remove", network, NODE2)
    lab("host-create", NODE2, "node", network, IPS[NODE2], "10.250.4.0/24")
    assert host(NODE2).run("test -e /usr/local/bin/kubelet").rc != 0  # a fresh machine

    playbook("ops/add_node.yml", "-e", f"add_nodes={NODE2}")

    nodes = json.loads(master.run(KUBECTL + "get nodes -o json").stdout)["items"]
    ready = {
        n["metadata"]["name"]: next(
            c["status"] for c in n["status"]["conditions"] if c["type"] == "Ready"
        )
        for n in nodes
    }
    assert ready == {NODE1: "True", NODE2: "True"}
    subnets = reservations(master)
    assert subnets[STATE["subnet"]] == IPS[NODE2]
    assert etcd_keys(master, KEPT) == {}  # the kept subnet is node2's reservation again
    env = host(NODE2).file("/run/flannel/subnet.env").content_string
    assert f"FLANNEL_SUBNET={ipaddress.ip_network(STATE['subnet'])[1]}/" in env, env
    # node1: its lease byte-identical (never rewritten), none of its services restarted.
    assert {
        k: v for k, v in etcd_keys(master, f"{PREFIX}/subnets").items() if IPS[NODE1] in v[0]
    } == STATE["node1_lease"]
    assert unit_starts(host(NODE1)) == STATE["node1_units"]
    # The router routes exactly etcd's reservations; node1 learnt the route from etcd.
    assert pod_routes(host(ROUTER)) == subnets
    wait_for(
        "node1's route to node2's subnet",
        lambda: pod_routes(host(NODE1)).get(STATE["subnet"]) == IPS[NODE2],
        timeout=60,
    )


@pytest.fixture(scope="module")
def pinned_pods(master):
    """One web pod pinned to each node (nodeName), from a locally built busybox image."""
    for name in (NODE1, NODE2):
        ensure_test_image(host(name))
    items = [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": f"pinned-{i}",
                "namespace": "default",
                "labels": {"app": "pinned"},
            },
            "spec": {
                "nodeName": name,
                "containers": [web_container()],
            },
        }
        for i, name in enumerate((NODE1, NODE2), 1)
    ]
    manifest = {"apiVersion": "v1", "kind": "List", "items": items}
    master.run(f"cat > /tmp/pinned.json <<'EOF'\n{json.dumps(manifest)}\nEOF")
    assert master.run(KUBECTL + "apply -f /tmp/pinned.json").rc == 0

    def running():
        pods = json.loads(master.run(KUBECTL + "get pods -l app=pinned -o json").stdout)["items"]
        ok = [p for p in pods if p["status"].get("phase") == "Running" and p["status"].get("podIP")]
        return ok if len(ok) == 2 else None

    pods = wait_for("a pinned pod Running on each node", running, timeout=180)
    yield {p["spec"]["nodeName"]: p for p in pods}
    master.run(KUBECTL + "delete -f /tmp/pinned.json --ignore-not-found")


@pytest.mark.parametrize(("source", "target"), [(NODE1, NODE2), (NODE2, NODE1)])
def test_pod_to_pod_both_ways_after_the_join(master, pinned_pods, source, target):
    src, dst = pinned_pods[source], pinned_pods[target]
    assert ipaddress.ip_address(pinned_pods[NODE2]["status"]["podIP"]) in ipaddress.ip_network(
        STATE["subnet"]
    )
    cmd = (
        f"exec {src['metadata']['name']} -- /busybox sh -c "
        f"\"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | /busybox nc -w 5 {dst['status']['podIP']} 8080\""
    )
    out = master.run(KUBECTL + cmd)
    assert out.rc == 0, out.stderr
    assert "200 OK" in out.stdout and dst["metadata"]["name"] in out.stdout, out.stdout
