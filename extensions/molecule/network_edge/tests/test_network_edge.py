"""Verify the office network edge from the office host: split DNS through dnsmasq and the nginx
stream proxy to the cluster's DNS, other names upstream, and HTTP to a pod through the router,
which fails once the router's forwarding jump is gone (so the route is what carries it)."""

import os

import pytest
import testinfra

POD_IP = "172.20.1.2"
KUBE_DNS_IP = "172.21.0.10"
OFFICE_DNS = "10.250.6.53"
ROUTER_OFFICE_IP = "10.250.6.31"
GET = (
    'python3 -c "import urllib.request,sys; '
    "sys.stdout.write(urllib.request.urlopen('http://{}/', timeout=4).read().decode())\""
)
# A DNS query over UDP to one server (no dig on the office host): prints the A records.
QUERY = """python3 - <<'PY'
import socket, struct
q = struct.pack('>HHHHHH', 0x1234, 0x0100, 1, 0, 0, 0)
q += b''.join(bytes([len(p)]) + p.encode() for p in '{name}'.split('.')) + b'\\0'
q += struct.pack('>HH', 1, 1)
s = socket.socket(socket.AF_INET, socket.{kind})
s.settimeout(4)
if s.type == socket.SOCK_STREAM:
    s.connect(('{server}', 53)); s.sendall(struct.pack('>H', len(q)) + q); r = s.recv(4096)[2:]
else:
    s.sendto(q, ('{server}', 53)); r = s.recv(4096)
ans = struct.unpack('>H', r[6:8])[0]
print(ans, '.'.join(str(b) for b in r[-4:]) if ans else '')
PY"""


def get_host(name):
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={inventory}")


@pytest.fixture(scope="module")
def office():
    return get_host("kb-ne-office")


@pytest.fixture(scope="module")
def router():
    return get_host("kb-ne-router")


@pytest.fixture(scope="module")
def dns():
    return get_host("kb-ne-dns")


def test_office_routes_point_at_the_router(office):
    routes = office.check_output("ip -4 route show")
    assert f"172.20.0.0/16 via {ROUTER_OFFICE_IP} " in routes
    assert f"172.21.0.0/16 via {ROUTER_OFFICE_IP} " in routes
    assert office.service("kubebin-office-routes").is_enabled


def test_cluster_name_resolves_through_office_dns(office):
    out = office.check_output("getent hosts web.default.svc.cluster.local")
    assert out.split()[0] == POD_IP


def test_pod_reverse_zone_goes_to_the_cluster(office):
    out = office.check_output(f"getent hosts {POD_IP}")
    assert "web.default.svc.cluster.local" in out


def test_public_name_resolves_through_the_upstream(office):
    out = office.check_output("getent hosts www.example.test")
    assert out.split()[0] == "10.250.6.80"


@pytest.mark.parametrize("kind", ["SOCK_DGRAM", "SOCK_STREAM"])
def test_the_proxy_answers_over_udp_and_tcp(dns, kind):
    out = dns.check_output(
        QUERY.format(name="web.default.svc.cluster.local", kind=kind, server="10.250.5.41")
    )
    assert out.split() == ["1", POD_IP]


def test_dnsmasq_config_is_the_split(dns):
    conf = dns.file("/etc/dnsmasq.d/kubebin.conf").content_string
    for line in (
        "no-resolv",
        "server=/cluster.local/10.250.5.41",
        "server=/20.172.in-addr.arpa/10.250.5.41",
        "server=/21.172.in-addr.arpa/10.250.5.41",
        "server=10.250.6.51",
        f"listen-address={OFFICE_DNS}",
    ):
        assert line in conf.splitlines(), line
    assert dns.run("nginx -t").rc == 0


def test_router_forwarding_is_persisted(router):
    assert router.file("/etc/sysctl.d/90-kubebin-router.conf").contains("net.ipv4.ip_forward = 1")
    assert router.check_output("cat /proc/sys/net/ipv4/ip_forward") == "1"
    assert router.service("kubebin-router").is_enabled
    assert router.run("/usr/local/sbin/kubebin-router check").rc == 0
    assert "172.20.1.0/24 via 10.250.5.21 " in router.check_output("ip -4 route show")


def test_http_to_the_pod_goes_through_the_router(office, router):
    assert "hello from the pod" in office.check_output(GET.format(POD_IP))
    # Without the jump into KUBEBIN-ROUTER, FORWARD's DROP policy (docker's, on a real node)
    # stops it: the router's rule is what carries the traffic.
    router.check_output("iptables -w 5 -D FORWARD -j KUBEBIN-ROUTER")
    try:
        assert office.run(GET.format(POD_IP)).rc != 0
        assert router.run("/usr/local/sbin/kubebin-router check").rc == 1
    finally:
        router.check_output("systemctl restart kubebin-router")
    assert "hello from the pod" in office.check_output(GET.format(POD_IP))


def test_service_ip_reachable_from_the_office(office):
    # Through the router, then to the node that answers for the service network.
    out = office.check_output(
        QUERY.format(name="web.default.svc.cluster.local", kind="SOCK_DGRAM", server=KUBE_DNS_IP)
    )
    assert out.split() == ["1", POD_IP]
