"""Verify a real Kubernetes 1.10.13 cluster on lab hosts: control plane, nodes, pods on
flannel subnets, cross-node traffic over host-gw, services, kube-dns, auth, proxy mode."""

import base64
import ipaddress
import json
import os
import ssl
import urllib.error
import urllib.request

import pytest
from lab import ensure_test_image, get_host, wait_for, web_container

MASTER = "kb-cl-m1"
MASTER_IP = "10.250.4.11"
NODES = {"kb-cl-n1": "10.250.4.21", "kb-cl-n2": "10.250.4.22"}
VERSION = "v1.10.13"
KUBECTL = "kubectl --kubeconfig /etc/kubernetes/admin.conf "
DNS_IMAGES = [
    "k8s-dns-kube-dns-amd64-1.14.10.tar.xz",
    "k8s-dns-dnsmasq-nanny-amd64-1.14.10.tar.xz",
    "k8s-dns-sidecar-amd64-1.14.10.tar.xz",
]


@pytest.fixture(scope="module")
def master():
    return get_host(MASTER)


def kubectl(master, args, check=True):
    out = master.run(KUBECTL + args)
    if check:
        assert out.rc == 0, f"kubectl {args}: {out.stderr}"
    return out


def kubectl_json(master, args):
    return json.loads(kubectl(master, args + " -o json").stdout)


def node_subnet(host):
    """The FLANNEL_SUBNET flanneld wrote on this node (its reservation)."""
    env = host.file("/run/flannel/subnet.env").content_string
    line = next(x for x in env.splitlines() if x.startswith("FLANNEL_SUBNET="))
    return ipaddress.ip_network(line.split("=", 1)[1], strict=False)


def test_component_statuses_healthy(master):
    cs = kubectl_json(master, "get componentstatuses")
    names = {item["metadata"]["name"]: item["conditions"][0] for item in cs["items"]}
    assert {"scheduler", "controller-manager", "etcd-0"} <= set(names), names
    for name, cond in names.items():
        assert cond["type"] == "Healthy" and cond["status"] == "True", (name, cond)


def test_nodes_ready_at_pinned_version(master):
    nodes = kubectl_json(master, "get nodes")["items"]
    assert sorted(n["metadata"]["name"] for n in nodes) == sorted(NODES)
    for node in nodes:
        assert node["status"]["nodeInfo"]["kubeletVersion"] == VERSION
        assert node["status"]["nodeInfo"]["kubeProxyVersion"] == VERSION
        ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
        assert ready["status"] == "True", node["metadata"]["name"]
        addresses = {a["type"]: a["address"] for a in node["status"]["addresses"]}
        assert addresses["InternalIP"] == NODES[node["metadata"]["name"]]


def test_anonymous_requests_are_refused():
    """No client certificate: the apiserver answers 401 (anonymous auth is off)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(
            f"https://{MASTER_IP}:6443/api/v1/namespaces", context=ctx, timeout=10
        )
    assert err.value.code == 401


def test_no_insecure_port(master):
    """1.10 opens 8080 unless told not to: nothing listens there, and the apiserver only on 6443."""
    assert not master.socket("tcp://0.0.0.0:8080").is_listening
    assert not master.socket("tcp://127.0.0.1:8080").is_listening
    assert master.socket("tcp://0.0.0.0:6443").is_listening
    # controller-manager and scheduler serve only on loopback.
    assert master.socket("tcp://127.0.0.1:10252").is_listening
    assert not master.socket("tcp://0.0.0.0:10252").is_listening


def test_docker_bridge_inside_the_flannel_subnet():
    for name in NODES:
        host = get_host(name)
        subnet = node_subnet(host)
        bridge = host.run("ip -4 -o addr show docker0")
        assert bridge.rc == 0, bridge.stderr
        address = ipaddress.ip_interface(bridge.stdout.split()[3])
        assert address.ip in subnet, (name, address, subnet)
        daemon = json.loads(host.file("/etc/docker/daemon.json").content_string)
        assert daemon["exec-opts"] == ["native.cgroupdriver=cgroupfs"]
        assert daemon["log-opts"]["max-file"] == "5"


def test_proxy_mode_reported_iptables_here():
    """kube-proxy was asked for ipvs; this kernel has no ip_vs, so it fell back to iptables.
    The role's report (local fact) must say so, and agree with kube-proxy itself."""
    for name in NODES:
        host = get_host(name)
        fact = json.loads(host.file("/etc/ansible/facts.d/kubebin_kube_proxy.fact").content_string)
        live = host.run(
            'python3 -c "import urllib.request;print(urllib.request.urlopen('
            "'http://127.0.0.1:10249/proxyMode').read().decode())\""
        )
        assert live.rc == 0, live.stderr
        has_ipvs = host.file("/proc/net/ip_vs").exists
        expected = "ipvs" if has_ipvs else "iptables"
        assert fact == {"requested": "ipvs", "active": expected}, fact
        assert live.stdout.strip() == expected


@pytest.fixture(scope="module")
def web(master):
    """A Deployment of a locally built busybox image, two replicas, one per node, a Service."""
    for name in NODES:
        ensure_test_image(get_host(name))
    manifest = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "default"},
                "spec": {
                    "replicas": 2,
                    "selector": {"matchLabels": {"app": "web"}},
                    "template": {
                        "metadata": {"labels": {"app": "web"}},
                        "spec": {
                            # one pod per node
                            "affinity": {
                                "podAntiAffinity": {
                                    "requiredDuringSchedulingIgnoredDuringExecution": [
                                        {
                                            "labelSelector": {"matchLabels": {"app": "web"}},
                                            "topologyKey": "kubernetes.io/hostname",
                                        }
                                    ]
                                }
                            },
                            "containers": [dict(web_container(), ports=[{"containerPort": 8080}])],
                        },
                    },
                },
            },
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "web", "namespace": "default"},
                "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]},
            },
        ],
    }
    master.run(f"cat > /tmp/web.json <<'EOF'\n{json.dumps(manifest)}\nEOF")
    kubectl(master, "apply -f /tmp/web.json")

    def running():
        pods = kubectl_json(master, "get pods -l app=web")["items"]
        ok = [
            p
            for p in pods
            if p["status"].get("phase") == "Running"
            and p["status"].get("podIP")
            and all(c.get("ready") for c in p["status"].get("containerStatuses", []))
        ]
        return ok if len(ok) == 2 else None

    pods = wait_for("two web pods Running", running)
    yield pods
    kubectl(master, "delete -f /tmp/web.json", check=False)


def test_pods_spread_over_both_nodes(web):
    assert sorted(p["spec"]["nodeName"] for p in web) == sorted(NODES)


def test_pod_ips_inside_their_node_reserved_subnet(web):
    for pod in web:
        subnet = node_subnet(get_host(pod["spec"]["nodeName"]))
        assert ipaddress.ip_address(pod["status"]["podIP"]) in subnet, (
            pod["spec"]["nodeName"],
            subnet,
        )


def http_get_from_pod(master, pod, address, port):
    cmd = (
        f"exec {pod} -- /busybox sh -c "
        f"\"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | /busybox nc -w 5 {address} {port}\""
    )
    return kubectl(master, cmd, check=False)


def test_pod_to_pod_across_nodes_over_host_gw(master, web):
    a, b = web
    # host-gw: the route to b's subnet on a's node goes via b's node IP, not an overlay device.
    node_a = get_host(a["spec"]["nodeName"])
    route = node_a.run(f"ip route get {b['status']['podIP']}")
    assert f"via {NODES[b['spec']['nodeName']]}" in route.stdout, route.stdout
    out = http_get_from_pod(master, a["metadata"]["name"], b["status"]["podIP"], 8080)
    assert out.rc == 0, out.stderr
    assert "200 OK" in out.stdout and b["metadata"]["name"] in out.stdout, out.stdout


def test_cluster_ip_service_answers(master, web):
    """kube-proxy balances the ClusterIP over both pods. Asked from each node's own network
    namespace: a pod reaching itself through its Service needs hairpin mode on its veth, which
    kubelet cannot set in the lab (/sys is read-only in the lab containers)."""
    svc = kubectl_json(master, "get service web")
    ip = svc["spec"]["clusterIP"]
    assert ipaddress.ip_address(ip) in ipaddress.ip_network("172.21.0.0/16")
    get = (
        'python3 -c "import urllib.request;'
        f"print(urllib.request.urlopen('http://{ip}/', timeout=5).read().decode().strip())\""
    )
    names = set()
    for name in NODES:
        host = get_host(name)
        for _attempt in range(8):
            out = host.run(get)
            assert out.rc == 0, f"{name}: {out.stderr}"
            names.add(out.stdout.strip())
    assert names == {p["metadata"]["name"] for p in web}, names


def test_kube_dns_resolves_the_kubernetes_service(master, web):
    mirror = os.environ.get("KUBEBIN_ARTIFACTS_MIRROR", "")
    missing = [i for i in DNS_IMAGES if not os.path.exists(os.path.join(mirror, "images", i))]
    if not mirror or missing:
        pytest.skip(f"kube-dns images not in the artifacts mirror ({mirror or 'unset'}): {missing}")

    def dns_ready():
        pods = kubectl_json(master, "-n kube-system get pods -l k8s-app=kube-dns")["items"]
        return any(
            all(c.get("ready") for c in p["status"].get("containerStatuses", [{}])) for p in pods
        )

    wait_for("kube-dns ready", dns_ready, timeout=240)
    out = kubectl(
        master,
        f"exec {web[0]['metadata']['name']} -- /busybox nslookup "
        "kubernetes.default.svc.cluster.local 172.21.0.10",
        check=False,
    )
    assert out.rc == 0, out.stdout + out.stderr
    assert "172.21.0.1" in out.stdout.split("kubernetes.default.svc.cluster.local", 1)[-1], (
        out.stdout
    )


def test_a_certificate_changed_after_the_start_restarts_its_service():
    """units.watch (what kube_node passes): kube-proxy restarts when its certificate is newer
    than its start, once, whichever run replaced the certificate."""
    node = get_host("kb-cl-n1")
    cert = "/etc/kubernetes/pki/kube-proxy.crt"
    args = json.dumps({"names": ["kube-proxy"], "watch": {"kube-proxy": [cert]}})

    def units():
        return node.ansible("kubebin.cluster.units", args, check=False, become=True)

    def started_at():
        return node.run("systemctl show -p ActiveEnterTimestampMonotonic --value kube-proxy").stdout

    assert units()["restarted"] == []
    before = started_at()
    assert node.run(f"touch {cert}").rc == 0
    assert units()["restarted"] == ["kube-proxy.service"]
    assert started_at() != before
    assert node.service("kube-proxy").is_running
    assert units()["restarted"] == []


def test_the_apiservers_kubelet_client_is_no_cluster_admin(master):
    """Its certificate is in no group (not system:masters): it reaches the kubelets' API only,
    through kube_addons' binding - exec above works, anything else is forbidden."""
    subject = master.check_output(
        "openssl x509 -noout -subject -in /etc/kubernetes/pki/apiserver-kubelet-client.crt"
    )
    assert "kube-apiserver-kubelet-client" in subject and "system:masters" not in subject
    can = master.run(
        "kubectl --kubeconfig /etc/kubernetes/admin.conf auth can-i list secrets"
        " --all-namespaces --as kube-apiserver-kubelet-client"
    )
    assert can.stdout.strip() == "no", can.stdout + can.stderr
    proxy = master.run(
        "kubectl --kubeconfig /etc/kubernetes/admin.conf auth can-i get nodes"
        " --subresource=proxy --as kube-apiserver-kubelet-client"
    )
    assert proxy.stdout.strip() == "yes", proxy.stdout + proxy.stderr


ETCD_V3 = "bash -lc 'source /etc/profile.d/etcdctl.sh && etcdctl {}'"


def stored(master, key):
    """The bytes etcd holds under KEY (binary: carried as base64)."""
    out = master.run(ETCD_V3.format(f"get {key} --print-value-only | base64 -w0"))
    assert out.rc == 0, out.stderr
    return base64.b64decode(out.stdout)


def test_secrets_are_encrypted_at_rest_in_etcd(master):
    """A Secret written through the API is stored aescbc-encrypted (pki's encryption config),
    and so is every Secret the cluster made before (kube_addons rewrote them once)."""
    admin = "kubectl --kubeconfig /etc/kubernetes/admin.conf "
    master.check_output(
        admin + "-n default create secret generic enc-canary --from-literal=k=plain-canary-42"
    )
    try:
        raw = stored(master, "/registry/secrets/default/enc-canary")
        assert raw.startswith(b"k8s:enc:aescbc:v1:key1:"), raw[:60]
        assert b"plain-canary-42" not in raw
        keys = master.check_output(
            ETCD_V3.format("get /registry/secrets --prefix --keys-only")
        ).split()
        assert keys, "no Secret in etcd"
        for key in keys:
            assert stored(master, key).startswith(b"k8s:enc:aescbc:v1:key1:"), key
        mode = master.check_output("stat -c %a /etc/kubernetes/pki/encryption-config.yaml")
        assert mode == "600"
    finally:
        master.run(admin + "-n default delete secret enc-canary")
