# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CIDR routing math for a flannel host-gw Kubernetes 1.10 cluster: the pure-Python core.

No Ansible import here: the filters in ``plugins/filter/cidr.py`` are thin wrappers, and this
module is unit-tested and benchmarked on its own. Address parsing and the mask tables come from
netaddr (what ansible.utils uses); the hot paths work on netaddr's integer values.

Every network value is IPv4 (Kubernetes 1.10 and flannel 0.10 host-gw are IPv4-only). Every
error is a :class:`CidrError` whose message names the argument and the offending value.

Facts about the software this encodes (each is checked against its source):

* flanneld never leases the first subnet of its ``Network`` (``SubnetMin`` defaults to the
  network address + one subnet) and drops a lease or reservation below ``SubnetMin`` as "not
  compatible with current config"; so usable subnets are ``2**(subnet_len - prefix) - 1``.
* flanneld refuses ``SubnetLen > 30`` and ``SubnetLen < prefix + 2``.
* kube-apiserver gives the ``kubernetes`` service the first host address of
  ``--service-cluster-ip-range`` and refuses ranges with more than 20 host bits (shorter
  than /12).
"""

from __future__ import annotations

import re

try:
    import netaddr
    from netaddr.strategy import ipv4
except ImportError as exc:  # a controller without netaddr (or ansible-test's import check)
    netaddr = ipv4 = None
    NETADDR_IMPORT_ERROR = str(exc)
else:
    NETADDR_IMPORT_ERROR = None

__all__ = [
    "ROUTE_STYLES",
    "CidrError",
    "cluster_check",
    "dnsmasq_split",
    "flannel_lease_key",
    "flannel_subnets",
    "host_gw_routes",
    "route_commands",
    "route_files",
    "service_ip",
    "stale_routes",
]

# Limits of the software (see the module docstring).
FLANNEL_MAX_SUBNET_LEN = 30
APISERVER_MIN_SERVICE_PREFIX = 12
DEFAULT_SUBNET_LEN = 24
# Where a free range is suggested from when a setting has to move (RFC 1918).
_PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")

if ipv4 is not None:
    _NETMASK = ipv4.prefix_to_netmask  # {prefixlen: netmask as int}
    _HOSTMASK = ipv4.prefix_to_hostmask  # {prefixlen: hostmask as int}
    _to_int = ipv4.str_to_int  # strict dotted quad (inet_pton rules): raises AddrFormatError
    _to_str = ipv4.int_to_str
_PREFIX_RE = re.compile(r"(?:0|[1-9][0-9]?)\Z")
_LABEL_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z", re.IGNORECASE)
_PORT_RE = re.compile(r"[1-9][0-9]{0,4}\Z")


class CidrError(ValueError):
    """A value given to one of the CIDR functions is malformed or inconsistent."""


# --------------------------------------------------------------------------------------------
# Parsing and formatting helpers. A network is a (first address as int, prefix length) tuple.
# --------------------------------------------------------------------------------------------
def _show(value):
    """The value as it appears in an error message: quoted strings, other types named."""
    if isinstance(value, str):
        return repr(str(value))
    return "%r (a %s)" % (value, type(value).__name__)


def _parse_net(value, arg, strict=True):
    """Parse ``a.b.c.d/len`` into (first, prefixlen, host_bits_set).

    With ``strict`` a CIDR with host bits set is an error that says what the network is;
    without, the caller gets the network and decides (cluster_check reports it).
    """
    if not isinstance(value, str):
        raise CidrError("%s: %s is not a string in CIDR form a.b.c.d/len" % (arg, _show(value)))
    addr, sep, plen = value.partition("/")
    if not sep or not _PREFIX_RE.match(plen) or int(plen) > 32:
        raise CidrError(
            "%s: %s is not an IPv4 network in CIDR form a.b.c.d/len (len 0-32)"
            % (arg, _show(value))
        )
    try:
        ip = _to_int(addr)
    except netaddr.AddrFormatError:
        raise CidrError(
            "%s: %s is not an IPv4 network: %r is not a dotted-quad address"
            % (arg, _show(value), str(addr))
        ) from None
    prefixlen = int(plen)
    first = ip & _NETMASK[prefixlen]
    if strict and first != ip:
        raise CidrError(
            "%s: %s has host bits set; the network is %s/%d - write that"
            % (arg, _show(value), _to_str(first), prefixlen)
        )
    return first, prefixlen, first != ip


def _net(value, arg):
    return _parse_net(value, arg)[:2]


def _parse_ip(value, arg):
    """Parse a single IPv4 address (no prefix) into an int."""
    if not isinstance(value, str):
        raise CidrError("%s: %s is not a string holding an IPv4 address" % (arg, _show(value)))
    if "/" in value:
        raise CidrError(
            "%s: %s is a network; a single IPv4 address (no /len) is needed here"
            % (arg, _show(value))
        )
    try:
        return _to_int(value)
    except netaddr.AddrFormatError:
        raise CidrError("%s: %s is not an IPv4 address" % (arg, _show(value))) from None


def _int_arg(value, arg, low, high):
    if isinstance(value, bool) or not isinstance(value, int):
        raise CidrError("%s: %s is not an integer" % (arg, _show(value)))
    if not low <= value <= high:
        raise CidrError("%s: %s is out of range %d-%d" % (arg, value, low, high))
    return value


def _list_arg(value, arg):
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise CidrError("%s: %s is not a list" % (arg, _show(value)))
    return value


def _dict_arg(value, arg):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise CidrError("%s: %s is not a dictionary" % (arg, _show(value)))
    return value


def _name_arg(value, arg):
    if not isinstance(value, str) or not value:
        raise CidrError("%s: %s is not a non-empty node name" % (arg, _show(value)))
    return str(value)


def _cidr(first, prefixlen):
    return "%s/%d" % (_to_str(first), prefixlen)


def _last(first, prefixlen):
    return first | _HOSTMASK[prefixlen]


def _overlap(a, b):
    return a[0] <= _last(*b) and b[0] <= _last(*a)


def _suggest_free(prefixlen, taken):
    """The first private (RFC 1918) /prefixlen that overlaps none of ``taken``, or None."""
    free = netaddr.IPSet(_PRIVATE_RANGES) - netaddr.IPSet(_cidr(*n) for n in taken)
    for block in free.iter_cidrs():
        if block.prefixlen <= prefixlen:
            return "%s/%d" % (block.network, prefixlen)
    return None


# --------------------------------------------------------------------------------------------
# service_ip
# --------------------------------------------------------------------------------------------
def service_ip(service_cidr, index):
    """The ``index``-th host address of ``service_cidr`` (1 is the ``kubernetes`` service)."""
    first, prefixlen = _net(service_cidr, "service_cidr")
    if isinstance(index, bool) or not isinstance(index, int):
        raise CidrError("index: %s is not an integer" % _show(index))
    hosts = _HOSTMASK[prefixlen] - 1  # host addresses, without network and broadcast
    if hosts < 1:
        raise CidrError(
            "service_cidr: %s has no host addresses (a /%d); use a /30 or shorter prefix"
            % (_show(service_cidr), prefixlen)
        )
    if not 1 <= index <= hosts:
        what = ""
        if index == 0:
            what = " (0 is the network address)"
        elif index == hosts + 1:
            what = " (%d is the broadcast address)" % index
        raise CidrError(
            "index: %d is outside service_cidr %s: its host addresses are 1-%d%s"
            % (index, _cidr(first, prefixlen), hosts, what)
        )
    return _to_str(first + index)


# --------------------------------------------------------------------------------------------
# flannel
# --------------------------------------------------------------------------------------------
def _flannel_layout(pod_cidr, subnet_len):
    """Parse pod_cidr/subnet_len and apply flanneld's rules; return (first, prefix, slots)."""
    pod = _net(pod_cidr, "pod_cidr")
    subnet_len = _int_arg(subnet_len, "subnet_len", 0, 32)
    if subnet_len > FLANNEL_MAX_SUBNET_LEN:
        raise CidrError(
            "subnet_len: %d is longer than /%d, which flanneld refuses; use %d or less"
            % (subnet_len, FLANNEL_MAX_SUBNET_LEN, FLANNEL_MAX_SUBNET_LEN)
        )
    if subnet_len < pod[1] + 2:
        raise CidrError(
            "subnet_len: %d is too short for pod_cidr %s: flanneld needs subnet_len >= prefix"
            " + 2 = %d (at least four subnets); use a longer subnet_len or a larger pod_cidr"
            % (subnet_len, _cidr(*pod), pod[1] + 2)
        )
    # flanneld never leases subnet 0 of the network: slots are 1 .. 2**(len - prefix) - 1.
    return pod, subnet_len, 2 ** (subnet_len - pod[1]) - 1


def _flannel_nodes(nodes):
    """Validate the node list; return the set of names."""
    names = set()
    ips = {}
    for i, node in enumerate(_list_arg(nodes, "nodes")):
        arg = "nodes[%d]" % i
        if not isinstance(node, dict):
            raise CidrError("%s: %s is not a dictionary with name and ip" % (arg, _show(node)))
        if "name" not in node or "ip" not in node:
            raise CidrError("%s: %s lacks a name or an ip key" % (arg, _show(node)))
        name = _name_arg(node["name"], arg + ".name")
        if name in names:
            raise CidrError(
                "%s.name: %s is listed twice; node names must be unique" % (arg, _show(name))
            )
        names.add(name)
        ip = _parse_ip(node["ip"], arg + ".ip")
        if ip in ips:
            raise CidrError(
                "%s.ip: %s of node %s is also the ip of node %s; flanneld finds a node's lease"
                " by its IP, so each node needs its own"
                % (arg, _show(node["ip"]), _show(name), _show(ips[ip]))
            )
        ips[ip] = name
    return names


def _flannel_reserved(reserved, pod, subnet_len):
    """Validate the reservations; return {name: slot index} for all of them."""
    shift = 32 - subnet_len
    pod_last = _last(*pod)
    slots = {}  # name -> slot index
    owner = {}  # slot index -> name
    for name in sorted(_dict_arg(reserved, "reserved"), key=str):
        arg = "reserved[%s]" % _show(_name_arg(name, "reserved key"))
        value = reserved[name]
        first, prefixlen = _net(value, arg)
        if prefixlen != subnet_len:
            raise CidrError(
                "%s: %s is a /%d but subnet_len is %d; flanneld would drop this lease"
                % (arg, _show(value), prefixlen, subnet_len)
            )
        if not pod[0] <= first <= pod_last:
            raise CidrError(
                "%s: %s is outside pod_cidr %s; flanneld would drop this lease"
                % (arg, _show(value), _cidr(*pod))
            )
        index = (first - pod[0]) >> shift
        if index == 0:
            raise CidrError(
                "%s: %s is the first subnet of pod_cidr %s, which flanneld never leases (it"
                " would drop this reservation); release it" % (arg, _show(value), _cidr(*pod))
            )
        if index in owner:
            raise CidrError(
                "%s: %s is also reserved for %s; each subnet belongs to one node"
                % (arg, _show(value), _show(owner[index]))
            )
        owner[index] = name
        slots[name] = index
    return slots


def flannel_subnets(nodes, pod_cidr, subnet_len=DEFAULT_SUBNET_LEN, reserved=None):
    """Give every node a flannel subnet: ``{name: 'a.b.c.d/len'}``, sorted by name.

    Subnets in ``reserved`` (``{name: subnet}``) are kept for nodes still listed; entries for
    names no longer listed are validated and released. New nodes, taken in name order, get
    the lowest free subnets, never the pod network's first (flanneld skips it).
    """
    pod, subnet_len, slots = _flannel_layout(pod_cidr, subnet_len)
    names = _flannel_nodes(nodes)
    kept = {
        name: index
        for name, index in _flannel_reserved(reserved, pod, subnet_len).items()
        if name in names
    }
    new = sorted(names.difference(kept))
    free_count = slots - len(kept)
    if len(new) > free_count:
        raise CidrError(
            "pod_cidr: %s is exhausted: it holds %d subnets of /%d for nodes (flanneld never"
            " leases the first), %d nodes need one (%d keep a reserved subnet, %d new) and only"
            " %d are free; use a larger pod_cidr or a longer subnet_len"
            % (_show(pod_cidr), slots, subnet_len, len(names), len(kept), len(new), free_count)
        )
    # Integer slot numbers; the lowest free ones go to the new nodes in name order.
    taken = set(kept.values())
    alloc = dict(kept)
    index = 1
    for name in new:
        while index in taken:
            index += 1
        alloc[name] = index
        index += 1
    first = pod[0]
    step = 1 << (32 - subnet_len)
    suffix = "/%d" % subnet_len
    return {name: _to_str(first + alloc[name] * step) + suffix for name in sorted(alloc)}


def flannel_lease_key(subnet, prefix="/coreos.com/network"):
    """The etcd v2 key of a flannel lease: ``<prefix>/subnets/a.b.c.d-len``."""
    first, prefixlen = _net(subnet, "subnet")
    if not isinstance(prefix, str) or not prefix.startswith("/") or re.search(r"\s", prefix):
        raise CidrError(
            "prefix: %s is not an etcd key prefix (a path starting with / and without blanks,"
            " like flanneld's -etcd-prefix)" % _show(prefix)
        )
    return "%s/subnets/%s-%d" % (str(prefix).rstrip("/"), _to_str(first), prefixlen)


def _host_gw_entries(node_subnets, node_ips, node_cidr):
    """Validate host-gw input; return [(subnet first, prefixlen, node, ip)] sorted by subnet."""
    node_subnets = _dict_arg(node_subnets, "node_subnets")
    node_ips = _dict_arg(node_ips, "node_ips")
    cidr = _net(node_cidr, "node_cidr")
    for arg, have, other, what in (
        ("node_ips", node_subnets, node_ips, "no ip for %s, which node_subnets gives a subnet"),
        ("node_subnets", node_ips, node_subnets, "no subnet for %s, which node_ips lists"),
    ):
        missing = sorted(set(have).difference(other), key=str)
        if missing:
            raise CidrError(
                "%s: %s; every node needs both" % (arg, what % ", ".join(_show(n) for n in missing))
            )
    low, high = cidr[0], _last(*cidr)
    if cidr[1] <= 30:  # the network and broadcast addresses are no host's
        low, high = low + 1, high - 1
    entries = []
    seen_ip = {}
    for node, subnet in node_subnets.items():
        name = _name_arg(node, "node_subnets key")
        first, prefixlen = _net(subnet, "node_subnets[%s]" % _show(name))
        ip_value = node_ips[node]
        ip = _parse_ip(ip_value, "node_ips[%s]" % _show(name))
        if not low <= ip <= high:
            raise CidrError(
                "node_ips[%s]: %s is not a host address of node_cidr %s; flannel host-gw"
                " needs every node on that one L2 segment"
                % (_show(name), _show(ip_value), _cidr(*cidr))
            )
        if ip in seen_ip:
            raise CidrError(
                "node_ips[%s]: %s is also the ip of node %s"
                % (_show(name), _show(ip_value), _show(seen_ip[ip]))
            )
        seen_ip[ip] = name
        entries.append((first, prefixlen, name, ip))
    entries.sort()
    for prev, cur in zip(entries, entries[1:]):
        if cur[0] <= _last(prev[0], prev[1]):
            raise CidrError(
                "node_subnets: %s of node %s overlaps %s of node %s; each node needs its own subnet"
                % (_cidr(cur[0], cur[1]), _show(cur[2]), _cidr(prev[0], prev[1]), _show(prev[2]))
            )
    return entries


def host_gw_routes(node_subnets, node_ips, node_cidr, only=None):
    """The routes flannel host-gw installs on each node: one per OTHER node's subnet.

    Returns ``{node: [{'dest': subnet, 'via': other_node_ip}, ...]}`` with each list sorted
    by destination. The route dicts are shared between the nodes' lists (built once). With
    ``only`` (a list of node names) just those nodes' lists are returned; every node is
    still validated, since every node is a route target.
    """
    entries = _host_gw_entries(node_subnets, node_ips, node_cidr)
    routes = [{"dest": _cidr(e[0], e[1]), "via": _to_str(e[3])} for e in entries]
    position = {entry[2]: i for i, entry in enumerate(entries)}
    if only is None:
        wanted = list(position)
    else:
        wanted = _list_arg(only, "only")
        for j, name in enumerate(wanted):
            if not isinstance(name, str) or name not in position:
                raise CidrError("only[%d]: %s is not a node of node_subnets" % (j, _show(name)))
    result = {}
    for name in sorted(wanted):
        i = position[name]
        result[name] = routes[:i] + routes[i + 1 :]
    return result


# --------------------------------------------------------------------------------------------
# route_commands
# --------------------------------------------------------------------------------------------
def _route_linux(first, prefixlen, gw):
    if prefixlen == 32:
        return "route add -host %s gw %s" % (_to_str(first), gw)
    return "route add -net %s netmask %s gw %s" % (_to_str(first), _to_str(_NETMASK[prefixlen]), gw)


def _route_iproute2(first, prefixlen, gw):
    return "ip route add %s/%d via %s" % (_to_str(first), prefixlen, gw)


def _route_windows(first, prefixlen, gw):
    return "route -p add %s mask %s %s" % (_to_str(first), _to_str(_NETMASK[prefixlen]), gw)


def _route_cisco(first, prefixlen, gw):
    return "ip route %s %s %s" % (_to_str(first), _to_str(_NETMASK[prefixlen]), gw)


def _route_h3c(first, prefixlen, gw):
    return "ip route-static %s %d %s" % (_to_str(first), prefixlen, gw)


ROUTE_STYLES = {
    "cisco": _route_cisco,
    "h3c": _route_h3c,
    "iproute2": _route_iproute2,
    "linux": _route_linux,
    "windows": _route_windows,
}


def route_commands(dests, gateway, style, merge=False):
    """Commands that route each of ``dests`` via ``gateway`` in a device's syntax.

    Duplicates and destinations inside another listed one are dropped; adjacent networks stay
    separate unless ``merge`` asks for the smallest covering set. Sorted by network address.
    A destination without /len is a host (/32).
    """
    if not isinstance(style, str) or style not in ROUTE_STYLES:
        raise CidrError(
            "style: %s is not a known style; valid styles: %s"
            % (_show(style), ", ".join(sorted(ROUTE_STYLES)))
        )
    if not isinstance(merge, bool):
        raise CidrError("merge: %s is not a boolean (true or false)" % _show(merge))
    gw = _parse_ip(gateway, "gateway")
    if gw in (0, ipv4.max_int) or netaddr.IPAddress(gw).is_multicast():
        raise CidrError("gateway: %s is not a unicast host address" % _show(gateway))
    nets = []
    for i, dest in enumerate(_list_arg(dests, "dests")):
        arg = "dests[%d]" % i
        if isinstance(dest, str) and "/" not in dest:
            nets.append((_parse_ip(dest, arg), 32))
        else:
            nets.append(_net(dest, arg))
    if merge:
        merged = netaddr.cidr_merge([netaddr.IPNetwork(n, version=4) for n in set(nets)])
        kept = [(n.first, n.prefixlen) for n in merged]
    else:
        kept = []
        end = -1
        for first, prefixlen in sorted(set(nets)):
            # CIDRs nest or are disjoint, and sorting puts a container before its contents.
            if first > end:
                kept.append((first, prefixlen))
                end = _last(first, prefixlen)
    for first, prefixlen in kept:
        if prefixlen == 32 and first == gw:
            raise CidrError(
                "dests: %s is the gateway itself; a route to the gateway via the gateway is a loop"
                % _cidr(first, prefixlen)
            )
    fmt = ROUTE_STYLES[style]
    gw_str = _to_str(gw)
    return [fmt(first, prefixlen, gw_str) for first, prefixlen in kept]


# Each style's ready-to-paste file: name, comment leader, line ending.
ROUTE_FILES = {
    "linux": ("linux.sh", "#", "\n"),
    "iproute2": ("iproute2.sh", "#", "\n"),
    "windows": ("windows.bat", "REM", "\r\n"),
    "cisco": ("cisco.txt", "!", "\n"),
    "h3c": ("h3c.txt", "#", "\n"),
}


def route_files(dests, gateway, styles, merge=False):
    """For each of ``styles``, the file of route_commands for the hosts and devices Ansible
    does not manage: ``[{path, mode, content}]`` (two comment lines saying what it is, then one
    command a line, in the style's line ending)."""
    files = []
    for style in _list_arg(styles, "styles"):
        if style not in ROUTE_FILES:
            raise CidrError(
                "styles: %s is not a known style; valid styles: %s"
                % (_show(style), ", ".join(sorted(ROUTE_FILES)))
            )
        name, comment, newline = ROUTE_FILES[style]
        lines = [
            "%s Routes to the Kubernetes pod and service networks via the router %s (%s syntax)."
            % (comment, gateway, style),
            "%s Written by kubebin.cluster (route_announce) from the inventory; do not edit."
            % comment,
            *route_commands(dests, gateway, style, merge),
        ]
        files.append({"path": name, "mode": "0644", "content": newline.join(lines) + newline})
    return files


# --------------------------------------------------------------------------------------------
# dnsmasq_split
# --------------------------------------------------------------------------------------------
def _domain(value, arg):
    """A DNS name of RFC 1123 labels (letters, digits, inner hyphens; 1-63 each; 253 total)."""
    if not isinstance(value, str) or not value:
        raise CidrError("%s: %s is not a domain name" % (arg, _show(value)))
    labels = value.split(".")
    bad = [label for label in labels if not _LABEL_RE.match(label)]
    if bad or len(value) > 253:
        why = "label %r is not RFC 1123 (letters, digits and inner hyphens, 1-63 characters)" % (
            bad[0] if bad else "",
        )
        if len(value) > 253:
            why = "longer than 253 characters"
        elif value.endswith("."):
            why = "write it without the trailing dot"
        raise CidrError("%s: %s is not a valid domain name: %s" % (arg, _show(value), why))
    if labels[-1].isdigit():
        raise CidrError(
            "%s: %s looks like an address, not a domain; for a reverse zone give a CIDR"
            " such as 172.20.0.0/16" % (arg, _show(value))
        )
    return str(value)


def _reverse_zones(value, arg):
    """in-addr.arpa zones covering a CIDR: one zone on an octet boundary, else the zones of
    the next octet boundary that exactly cover it (a /12 gives 16 zones of /16)."""
    first, prefixlen = _net(value, arg)
    if prefixlen < 8:
        raise CidrError(
            "%s: %s is wider than a /8; list the /8 networks (or narrower) you mean"
            % (arg, _show(value))
        )
    octets = (prefixlen + 7) // 8
    step = 1 << (32 - octets * 8)
    zones = []
    for start in range(first, _last(first, prefixlen) + 1, step):
        words = ipv4.int_to_words(start)[:octets]
        zones.append(".".join(str(w) for w in reversed(words)) + ".in-addr.arpa")
    return zones


def _server_addr(value, arg):
    """A DNS server for dnsmasq: an IPv4 or IPv6 address, optionally ``#port``."""
    if not isinstance(value, str):
        raise CidrError("%s: %s is not a string holding an IP address" % (arg, _show(value)))
    addr, sep, port = value.partition("#")
    if sep and (not _PORT_RE.match(port) or int(port) > 65535):
        raise CidrError("%s: %s has an invalid #port (1-65535)" % (arg, _show(value)))
    if not (netaddr.valid_ipv4(addr, netaddr.INET_PTON) or netaddr.valid_ipv6(addr)):
        raise CidrError(
            "%s: %s is not an IP address (IPv4 or IPv6, optionally #port)" % (arg, _show(value))
        )
    return str(value)


def dnsmasq_split(cluster_domain, proxy_ip, upstreams, extra_domains=None):
    """dnsmasq lines for split DNS: the cluster's names go to ``proxy_ip``, the rest upstream.

    ``extra_domains`` may hold domain names or CIDRs; a CIDR means its reverse zone(s)
    (172.20.0.0/16 -> 20.172.in-addr.arpa; a prefix off an octet boundary expands to the
    zones of the next boundary that exactly cover it: 172.16.0.0/12 -> 16 .. 31.172...).
    """
    domains = [_domain(cluster_domain, "cluster_domain")]
    proxy = _server_addr(proxy_ip, "proxy_ip")
    for i, extra in enumerate(_list_arg(extra_domains, "extra_domains")):
        arg = "extra_domains[%d]" % i
        if isinstance(extra, str) and "/" in extra:
            domains.extend(_reverse_zones(extra, arg))
        else:
            domains.append(_domain(extra, arg))
    servers = [
        _server_addr(u, "upstreams[%d]" % i)
        for i, u in enumerate(_list_arg(upstreams, "upstreams"))
    ]
    if not servers:
        raise CidrError(
            "upstreams: %s is empty; with no-resolv dnsmasq needs at least one upstream server"
            % _show(upstreams)
        )
    lines = ["no-resolv"]
    seen = set()
    for domain in domains:
        if domain.lower() not in seen:
            seen.add(domain.lower())
            lines.append("server=/%s/%s" % (domain, proxy))
    for server in servers:
        line = "server=%s" % server
        if line not in lines:
            lines.append(line)
    return lines


# --------------------------------------------------------------------------------------------
# cluster_check
# --------------------------------------------------------------------------------------------
_SETTINGS = (
    "pod_cidr",
    "service_cidr",
    "node_cidrs",
    "office_cidrs",
    "dns_ip",
    "apiserver_service_ip",
    "subnet_len",
    "node_count",
)


def _check_service_ip(problems, key, value, service, taken_by):
    """Problems of one service IP setting; returns its int (or None)."""
    ip = _parse_ip(value, key)
    first, prefixlen = service
    last = _last(first, prefixlen)
    name = _cidr(first, prefixlen)
    nth = 1 if key == "apiserver_service_ip" else 2
    use = ""
    if first + nth < last:
        use = " - use %s (service_cidr | kubebin.cluster.service_ip(%d))" % (
            _to_str(first + nth),
            nth,
        )
    if not first <= ip <= last:
        problems.append(
            "%s %s is outside service_cidr %s: a service IP must come from the service network%s"
            % (key, value, name, use)
        )
    elif prefixlen <= 30 and ip == first:
        problems.append(
            "%s %s is the network address of service_cidr %s, not a host address%s"
            % (key, value, name, use)
        )
    elif prefixlen <= 30 and ip == last:
        problems.append(
            "%s %s is the broadcast address of service_cidr %s, not a host address%s"
            % (key, value, name, use)
        )
    elif key == "apiserver_service_ip" and ip != first + 1:
        problems.append(
            "apiserver_service_ip %s is not the first host address of service_cidr %s:"
            " kube-apiserver always gives the kubernetes service %s - use that (the apiserver"
            " certificate's SANs must match it)" % (value, name, _to_str(first + 1))
        )
    elif key == "dns_ip" and ip == first + 1:
        problems.append(
            "dns_ip %s is the first host address of service_cidr %s, which kube-apiserver"
            " takes for the kubernetes service%s" % (value, name, use)
        )
    elif ip in taken_by:
        problems.append(
            "%s %s is also %s; each service needs its own IP%s" % (key, value, taken_by[ip], use)
        )
    taken_by[ip] = key
    return ip


def _check_networks(settings, problems):
    """Parse the networks (host bits set is a problem, not an error); return their list."""
    named = []  # (setting label, (first, prefixlen), group)
    values = [("pod_cidr", settings["pod_cidr"], "pod")]
    values.append(("service_cidr", settings["service_cidr"], "service"))
    for key in ("node_cidrs", "office_cidrs"):
        for i, value in enumerate(_list_arg(settings.get(key), "settings." + key)):
            values.append(("%s[%d]" % (key, i), value, "host"))
    for label, value, group in values:
        first, prefixlen, host_bits = _parse_net(value, "settings." + label, strict=False)
        if host_bits:
            problems.append(
                "%s %s has host bits set: the network is %s - write that"
                % (label, value, _cidr(first, prefixlen))
            )
        named.append((label, (first, prefixlen), group))
    return named


def _check_overlaps(named, problems):
    """The pod network, the service network and the hosts' networks must not overlap (node
    and office networks may overlap each other: the nodes sit in the office LAN)."""
    suggested = {}  # label -> the free range proposed for it (None: no free range)
    for i, (label_a, net_a, group_a) in enumerate(named):
        for label_b, net_b, group_b in named[i + 1 :]:
            if group_a == group_b == "host" or not _overlap(net_a, net_b):
                continue
            # Move the cluster's own network: service before pod, either before a real one.
            move_label, move_net = (label_b, net_b) if group_b == "service" else (label_a, net_a)
            if move_label not in suggested:
                size = move_net[1]
                if move_label == "service_cidr":
                    size = max(size, APISERVER_MIN_SERVICE_PREFIX)
                taken = [entry[1] for entry in named if entry[0] != move_label]
                taken += [_parse_net(v, "")[:2] for v in suggested.values() if v]
                suggested[move_label] = _suggest_free(size, taken)
            fix = "move %s to a free range" % move_label
            if suggested[move_label]:
                fix += ", e.g. %s" % suggested[move_label]
            problems.append(
                "%s %s overlaps %s %s: traffic for one would be routed to the other; %s"
                % (label_a, _cidr(*net_a), label_b, _cidr(*net_b), fix)
            )


def _check_service(settings, service, problems):
    if service[1] < APISERVER_MIN_SERVICE_PREFIX:
        problems.append(
            "service_cidr %s is too large: kube-apiserver refuses a service range with more than"
            " 20 host bits; use a /%d or longer prefix"
            % (_cidr(*service), APISERVER_MIN_SERVICE_PREFIX)
        )
    if service[1] > 30:
        problems.append(
            "service_cidr %s has no room for services; use a /30 or shorter prefix (a /24 or more"
            " in practice)" % _cidr(*service)
        )
    taken_by = {}
    for key in ("apiserver_service_ip", "dns_ip"):
        if settings.get(key) is not None:
            _check_service_ip(problems, key, settings[key], service, taken_by)


def _check_pod_capacity(settings, pod, problems):
    subnet_len = settings.get("subnet_len")
    subnet_len = DEFAULT_SUBNET_LEN if subnet_len is None else subnet_len
    subnet_len = _int_arg(subnet_len, "settings.subnet_len", 0, 32)
    node_count = settings.get("node_count")
    if node_count is not None:
        node_count = _int_arg(node_count, "settings.node_count", 0, 2**32)
    if subnet_len > FLANNEL_MAX_SUBNET_LEN:
        problems.append(
            "subnet_len %d is longer than /%d, which flanneld refuses; use /24 (or up to /%d)"
            % (subnet_len, FLANNEL_MAX_SUBNET_LEN, FLANNEL_MAX_SUBNET_LEN)
        )
        return
    if subnet_len < pod[1] + 2:
        problems.append(
            "subnet_len %d is not long enough for pod_cidr %s: flanneld needs subnet_len >="
            " prefix + 2 = %d (at least four subnets); use subnet_len %d or more, or a larger"
            " pod_cidr" % (subnet_len, _cidr(*pod), pod[1] + 2, pod[1] + 2)
        )
        return
    slots = 2 ** (subnet_len - pod[1]) - 1
    if node_count is not None and node_count > slots:
        bits = node_count.bit_length()  # the smallest b with 2**b - 1 >= node_count
        fixes = []
        if subnet_len - bits >= 0:
            fixes.append("a pod_cidr of /%d or shorter" % (subnet_len - bits))
        if pod[1] + bits <= FLANNEL_MAX_SUBNET_LEN:
            fixes.append("subnet_len %d (smaller per-node subnets)" % (pod[1] + bits))
        problems.append(
            "pod_cidr %s with subnet_len %d has room for %d nodes (flanneld never leases the"
            " first subnet) but node_count is %d; use %s"
            % (_cidr(*pod), subnet_len, slots, node_count, " or ".join(fixes) or "fewer nodes")
        )


def cluster_check(settings):
    """Problems in a cluster's network settings, as a list of messages (empty when sound).

    Malformed values raise CidrError; inconsistent ones become messages that say the fix.
    """
    settings = _dict_arg(settings, "settings")
    unknown = sorted(set(map(str, settings)).difference(_SETTINGS))
    if unknown:
        raise CidrError(
            "settings: unknown key(s) %s; valid keys: %s"
            % (", ".join(repr(k) for k in unknown), ", ".join(_SETTINGS))
        )
    for key in ("pod_cidr", "service_cidr"):
        if settings.get(key) is None:
            raise CidrError("settings.%s: is required (a CIDR such as 172.20.0.0/16)" % key)
    problems = []
    named = _check_networks(settings, problems)
    _check_overlaps(named, problems)
    _check_service(settings, named[1][1], problems)
    _check_pod_capacity(settings, named[0][1], problems)
    return problems


# --------------------------------------------------------------------------------------------
# stale_routes
# --------------------------------------------------------------------------------------------
def stale_routes(live, wanted, owned):
    """Routes to delete: live gateway routes inside an ``owned`` network that ``wanted`` lacks.

    ``live`` is ``ip -4 route show`` output (a list of lines), ``wanted`` the routes kept
    (``[{dest, via}]``), ``owned`` the networks whose routes belong to the caller (e.g. the pod
    network on a router). Returns ``[{dest, via}]`` in the order shown; routes without ``via``
    (the host's own links) and routes outside every owned network are never returned.
    """
    owned_nets = [_net(v, "owned[%d]" % i) for i, v in enumerate(_list_arg(owned, "owned"))]
    keep = set()
    for i, route in enumerate(_list_arg(wanted, "wanted")):
        if not isinstance(route, dict) or "dest" not in route:
            raise CidrError("wanted[%d]: %s is not a route {dest, via}" % (i, _show(route)))
        keep.add(_net(route["dest"], "wanted[%d].dest" % i))
    stale = []
    for line in _list_arg(live, "live"):
        words = str(line).split()
        if (
            len(words) < 3
            or "via" not in words
            or words[0] in ("default", "unreachable", "blackhole")
        ):
            continue
        dest = words[0] if "/" in words[0] else words[0] + "/32"
        try:
            net = _net(dest, "live route")
        except CidrError:
            continue
        via = words[words.index("via") + 1]
        if net not in keep and any(_overlap(net, o) and net[1] >= o[1] for o in owned_nets):
            stale.append({"dest": _cidr(*net), "via": via})
    return stale
