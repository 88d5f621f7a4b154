# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster model: every value derived from the inventory, computed once, validated as built.

``cluster_model(settings, groups, node_ips, etcd_keys, removing)`` takes

* ``settings``: the cluster-wide inventory settings, by their inventory names (``cluster_*``),
* ``groups``: the inventory's groups (``{group: [host, ...]}``, Ansible's ``groups``),
* ``node_ips``: each host's address on ``cluster_node_cidr`` (``kubebin_node_ip``),
* ``etcd_keys``: what etcd holds under flannel's prefix and the collection's kept-subnet
  prefix (``[{key, value, ttl}]``, as ``kubebin.cluster.etcd_v2`` reads them), or ``None``
  before etcd is there,
* ``removing``: hosts being taken out of the cluster (``playbooks/ops/remove_node.yml``),
* ``fallback_ips``: each host's ``ansible_host``, the address of a host without
  ``kubebin_node_ip``,

and returns everything derived from them as plain data (see ``cluster_model``'s docstring).
No Ansible import: the filter ``kubebin.cluster.cluster_model`` is a thin wrapper. Errors are
:class:`ModelError` and name the inventory variable and the fix.

A node keeps its pod subnet for life. In order of precedence a node's subnet is: the one
pinned in ``cluster_pinned_subnets``; the one etcd holds for its address (a flannel lease or a
permanent reservation); the one kept for its name when it was removed (a rebuilt node gets its
subnet back); else the lowest subnet nothing in etcd or the inventory holds, new nodes taken in
name order. So the answer never depends on the inventory's order, and adding a node never
moves another.
"""

from __future__ import annotations

import functools
import json
import os
import re

import yaml  # PyYAML ships with ansible-core

from ansible_collections.kubebin.cluster.plugins.plugin_utils import cidr
from ansible_collections.kubebin.cluster.plugins.plugin_utils import teams as teams_mod

__all__ = [
    "GROUPS",
    "RENAMED",
    "SETTINGS",
    "ModelError",
    "cluster_model",
    "flannel_config",
    "releases",
    "renamed_in_use",
    "san",
]


class ModelError(ValueError):
    """An inventory setting (or what etcd holds) does not describe a cluster that can work."""


# Settings the model reads, with their defaults (None: required).
SETTINGS = {
    "cluster_pod_cidr": None,
    "cluster_service_cidr": None,
    "cluster_node_cidr": None,
    "cluster_domain": "cluster.local",
    "cluster_pod_subnet_len": 24,
    "cluster_office_cidrs": [],
    "cluster_dns_service_index": 10,
    "cluster_etcd_client_port": 2379,
    "cluster_pinned_subnets": {},
    "cluster_flannel_backend": "host-gw",
    "cluster_flannel_etcd_prefix": "/coreos.com/network",
    "cluster_kept_subnets_prefix": "/kubebin/kept-subnets",
    "cluster_kube_version": "1.10.13",
    "cluster_image_registry": "",
    "cluster_kube_config_dir": "/etc/kubernetes",
    "cluster_kube_pki_dir": "/etc/kubernetes/pki",
    "cluster_apiserver_port": 6443,
    # Environments (namespaces) and teams: plugin_utils/teams.py.
    "cluster_environments": list(teams_mod.DEFAULT_ENVIRONMENTS),
    "cluster_environment_quota": {
        "requests.cpu": "8",
        "requests.memory": "16Gi",
        "limits.cpu": "16",
        "limits.memory": "32Gi",
        "pods": "100",
        "persistentvolumeclaims": "20",
    },
    "cluster_environment_limits": {
        "default": {"cpu": "1", "memory": "1Gi"},
        "defaultRequest": {"cpu": "100m", "memory": "256Mi"},
        "max": {"cpu": "4", "memory": "8Gi"},
    },
    "cluster_teams": [],
    "cluster_apiserver_url": "",
    "cluster_kube_log_level": 2,
    "cluster_etcd_version": "3.3.27",
    "cluster_flannel_version": "v0.10.0",
    "cluster_upstream_dns": [],
    "cluster_etcd_pki_dir": "/etc/etcd/pki",
    "cluster_flannel_pki_dir": "/etc/flannel/pki",
    "cluster_flannel_docker_env": "/run/flannel/docker",
}
# Settings under the names other roles gave them before the model -> what replaced them.
RENAMED = {
    "kube_dns_service_index": "cluster_dns_service_index",
    "etcd_client_port": "cluster_etcd_client_port",
    "flannel_network_reserved": "cluster_pinned_subnets",
    "flannel_network_subnet_len": "cluster_pod_subnet_len",
    "flannel_network_prefix": "cluster_flannel_etcd_prefix",
    "flannel_network_backend": "cluster_flannel_backend",
    "flannel_network_nodes_group": "(none: every k8s_cluster host runs flanneld)",
    "kube_image_registry": "kubebin_image_registry",
    "kube_config_dir": "cluster_kube_config_dir",
    "kube_pki_dir": "cluster_kube_pki_dir",
    "kube_apiserver_port": "cluster_apiserver_port",
    "kube_apiserver_url": "cluster_apiserver_url",
    "kube_log_level": "cluster_kube_log_level",
    "etcd_version": "cluster_etcd_version",
    "etcd_pki_dir": "cluster_etcd_pki_dir",
    "flannel_network_etcd_pki_dir": "cluster_etcd_pki_dir",
    "flanneld_pki_dir": "cluster_flannel_pki_dir",
    "flanneld_docker_opts_file": "cluster_flannel_docker_env",
    "kube_control_plane_admin_kubeconfig": "pki_admin_kubeconfig",
    "flanneld_version": "cluster_flannel_version",
}
# Settings that may be left empty ('' is their default, not "unset").
_MAY_BE_EMPTY = ("cluster_image_registry", "cluster_apiserver_url")
# The inventory's groups, by what their hosts do (the model's ``members``).
GROUPS = {
    "k8s": "k8s_cluster",
    "control_plane": "kube_control_plane",
    "nodes": "kube_node",
    "etcd": "etcd",
    "routers": "router",
    "dns_proxy": "dns_proxy",
    "office_dns": "office_dns",
    "nfs_server": "nfs_server",
}
# What a host is, for the preflight catalogue's rules (kernel_rules.yml applies_to): the kinds
# of the ``members`` entries it is in.
HOST_KINDS = (
    ("node", "k8s"),
    ("etcd", "etcd"),
    ("router", "routers"),
    ("dns", "dns_proxy"),
    ("dns", "office_dns"),
    ("nfs_server", "nfs_server"),
)
# The collection's layers that run on the hosts of each ``members`` entry after preflight (and
# may fix what preflight finds there: kernel_rules.yml fixed_by), as site.yml runs them.
MEMBER_LAYERS = {
    "k8s": ["node_prep", "flanneld"],
    "nodes": ["runtime", "kube_node"],
    "etcd": ["etcd"],
    "routers": ["router"],
}
RELEASES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kube_releases.yml")

# Labels cidr.cluster_check uses in its messages -> the inventory names.
_CHECK_LABELS = (
    (re.compile(r"(?<![\w.])pod_cidr\b"), "cluster_pod_cidr"),
    (re.compile(r"(?<![\w.])service_cidr\b"), "cluster_service_cidr"),
    (re.compile(r"(?<![\w.])node_cidrs\[0\]"), "cluster_node_cidr"),
    (re.compile(r"(?<![\w.])office_cidrs\b"), "cluster_office_cidrs"),
    (re.compile(r"(?<![\w.])subnet_len\b"), "cluster_pod_subnet_len"),
    (re.compile(r"(?<![\w.])node_count\b"), "the number of k8s_cluster hosts"),
)
_SUBNET_KEY_RE = re.compile(r"(\d+\.\d+\.\d+\.\d+)-(\d+)\Z")


def _fail(msg, *args):
    raise ModelError(msg % args if args else msg)


def _show(value):
    return cidr._show(value)


def _settings(raw):
    if not isinstance(raw, dict):
        _fail("settings: %s is not a dictionary of cluster_* settings", _show(raw))
    out = {}
    for key, default in SETTINGS.items():
        value = raw.get(key)
        if value is None or (value == "" and key not in _MAY_BE_EMPTY):
            if default is None:
                _fail(
                    "%s is not set. Set it once in the inventory's group_vars/all (see"
                    " inventories/prod/group_vars/all/cluster.yml for a worked example)",
                    key,
                )
            value = default
        out[key] = value
    for key in (
        "cluster_pod_subnet_len",
        "cluster_dns_service_index",
        "cluster_etcd_client_port",
        "cluster_apiserver_port",
        "cluster_kube_log_level",
    ):
        value = out[key]
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            _fail("%s: %s is not an integer", key, _show(out[key]))
        out[key] = value
    _check_values(out)
    _check_shapes(out)
    return out


def _check_values(out):
    """OUT's ports, paths, apiserver URL, registry and releases, checked and normalised in
    place."""
    for key in ("cluster_etcd_client_port", "cluster_apiserver_port"):
        if not 1 <= out[key] <= 65535:
            _fail("%s: %d is not a TCP port (1-65535)", key, out[key])
    for key in (
        "cluster_kube_config_dir",
        "cluster_kube_pki_dir",
        "cluster_etcd_pki_dir",
        "cluster_flannel_pki_dir",
        "cluster_flannel_docker_env",
    ):
        value = out[key]
        if not isinstance(value, str) or not value.startswith("/") or re.search(r"\s", value):
            _fail("%s: %s is not an absolute path (no blanks)", key, _show(value))
        out[key] = value.rstrip("/") or "/"
    url = str(out["cluster_apiserver_url"]).strip()
    if url and not re.match(r"https://[^/\s:]+(:\d+)?/?\Z", url):
        _fail(
            "cluster_apiserver_url: %s is not https://HOST[:PORT] (the load balancer or VIP in"
            " front of the masters; leave it empty for the first control-plane host)",
            _show(url),
        )
    out["cluster_apiserver_url"] = url.rstrip("/")
    out["cluster_image_registry"] = str(out["cluster_image_registry"]).strip().rstrip("/")
    for key in ("cluster_etcd_version", "cluster_flannel_version"):
        value = re.sub(r"^v", "", str(out[key]).strip())
        if not re.match(r"\d+\.\d+\.\d+\Z", value):
            _fail("%s: %s is not a release version such as 3.3.27", key, _show(out[key]))
        out[key] = value


def _check_shapes(out):
    """OUT's lists, pins and etcd prefixes, checked and normalised in place."""
    for key in ("cluster_office_cidrs", "cluster_upstream_dns"):
        if isinstance(out[key], str):
            out[key] = [out[key]]
        if not isinstance(out[key], list):
            _fail("%s: %s is not a list", key, _show(out[key]))
    if not isinstance(out["cluster_pinned_subnets"], dict):
        _fail(
            "cluster_pinned_subnets: %s is not a dictionary of node name -> subnet",
            _show(out["cluster_pinned_subnets"]),
        )
    for key in ("cluster_flannel_etcd_prefix", "cluster_kept_subnets_prefix"):
        value = out[key]
        if not isinstance(value, str) or not value.startswith("/") or re.search(r"\s", value):
            _fail(
                "%s: %s is not an etcd key prefix (a path starting with /, no blanks)",
                key,
                _show(value),
            )
        out[key] = value.rstrip("/")


def _host_kinds(member_map):
    """{host: {kinds: [...], layers: [...]}} for every host of a group the model knows."""
    out = {}
    for kind, role in HOST_KINDS:
        for host in member_map.get(role, ()):
            entry = out.setdefault(host, {"kinds": [], "layers": []})
            if kind not in entry["kinds"]:
                entry["kinds"].append(kind)
    for role, layers in MEMBER_LAYERS.items():
        for host in member_map.get(role, ()):
            out[host]["layers"] += [x for x in layers if x not in out[host]["layers"]]
    return out


def renamed_in_use(names):
    """``["old -> new", ...]`` for each of NAMES (the variables set) that is an old name."""
    given = {str(n) for n in names or ()}
    return ["%s -> %s" % (old, new) for old, new in RENAMED.items() if old in given]


@functools.lru_cache(maxsize=4)
def releases(path=RELEASES):
    """{minor: release data} of every Kubernetes minor the collection supports."""
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    return {str(minor): release for minor, release in data.items()}


def _kube(s, control_plane, ips, table=None):
    """What every Kubernetes role shares: the release, its registry, paths, the apiserver URL."""
    table = releases() if table is None else table
    version = re.sub(r"^v", "", str(s["cluster_kube_version"]).strip())
    minor = ".".join(version.split(".")[:2])
    if not re.match(r"\d+\.\d+\.\d+\Z", version) or minor not in table:
        _fail(
            "cluster_kube_version: %s is not supported: kubebin.cluster has version tables for"
            " Kubernetes %s (plugins/plugin_utils/kube_releases.yml). Use a full release version"
            " such as 1.10.13",
            _show(s["cluster_kube_version"]),
            ", ".join(sorted(table, key=lambda m: tuple(int(x) for x in m.split(".")))),
        )
    release = table[minor]
    url = s["cluster_apiserver_url"]
    if not url:
        if not control_plane:
            url = ""
        else:
            url = "https://%s:%d" % (ips[control_plane[0]][1], s["cluster_apiserver_port"])
    return {
        "version": version,
        "minor": minor,
        "release": release,
        "registry": s["cluster_image_registry"] or release["registry"],
        "config_dir": s["cluster_kube_config_dir"],
        "pki_dir": s["cluster_kube_pki_dir"],
        "apiserver_port": s["cluster_apiserver_port"],
        "apiserver_url": url,
        "log_level": s["cluster_kube_log_level"],
    }


def _check_networks(s, node_count):
    try:
        problems = cidr.cluster_check(
            {
                "pod_cidr": s["cluster_pod_cidr"],
                "service_cidr": s["cluster_service_cidr"],
                "node_cidrs": [s["cluster_node_cidr"]],
                "office_cidrs": list(s["cluster_office_cidrs"]),
                "subnet_len": s["cluster_pod_subnet_len"],
                "node_count": node_count,
            }
        )
    except cidr.CidrError as exc:
        problems = [str(exc).replace("settings.", "")]
    if problems:
        for pattern, name in _CHECK_LABELS:
            problems = [pattern.sub(name, p) for p in problems]
        _fail("inventory network settings: %s", " | ".join(problems))


def _service_ips(s):
    service = s["cluster_service_cidr"]
    index = s["cluster_dns_service_index"]
    kubernetes = cidr.service_ip(service, 1)
    try:
        dns = cidr.service_ip(service, index)
    except cidr.CidrError as exc:
        _fail(
            "cluster_dns_service_index: %d does not fit cluster_service_cidr %s (%s); use a"
            " small index such as 10 (172.21.0.10 in a 172.21.0.0/16)",
            index,
            service,
            str(exc).split(": ", 1)[-1],
        )
    if dns == kubernetes:
        _fail(
            "cluster_dns_service_index: 1 gives kube-dns %s, the kubernetes service's own IP"
            " (always the first address); use another index such as 10",
            dns,
        )
    return kubernetes, dns


def _groups(groups, removing):
    if not isinstance(groups, dict):
        _fail("groups: %s is not the inventory's groups", _show(groups))
    if removing is None:
        removing = []
    if isinstance(removing, str):
        removing = [h for h in removing.split(",") if h.strip()]
    removing = [str(h).strip() for h in removing]
    k8s = list(groups.get("k8s_cluster") or [])
    unknown = [h for h in removing if h not in k8s]
    if unknown:
        _fail(
            "remove_nodes: %s not in k8s_cluster; name the cluster nodes to take out",
            ", ".join(unknown),
        )
    gone = set(removing)

    def members(name):
        return [h for h in (groups.get(name) or []) if h not in gone]

    return members, removing


def _addresses(hosts, node_ips, s):
    """Every host's address, checked: set, an IPv4 address, unique."""
    if not isinstance(node_ips, dict):
        _fail("node_ips: %s is not a dictionary of host -> kubebin_node_ip", _show(node_ips))
    missing = [h for h in hosts if not node_ips.get(h)]
    if missing:
        _fail(
            "kubebin_node_ip is not set for %s: give each cluster host its address on"
            ' cluster_node_cidr %s (inventories/prod sets kubebin_node_ip: "{{ ansible_host }}"'
            " in group_vars/all)",
            ", ".join(sorted(missing)),
            s["cluster_node_cidr"],
        )
    ips = {}
    owner = {}
    for host in hosts:
        value = node_ips[host]
        try:
            ip = cidr._parse_ip(value, "kubebin_node_ip of %s" % host)
        except cidr.CidrError as exc:
            raise ModelError(str(exc)) from None
        if ip in owner and owner[ip] != host:
            _fail(
                "kubebin_node_ip of %s: %s is also the address of %s; every host needs its own"
                " (flanneld finds a node's subnet by its address)",
                host,
                value,
                owner[ip],
            )
        owner[ip] = host
        ips[host] = (ip, cidr._to_str(ip))
    return ips


def _on_segment(hosts, ips, s, why, borrowed=()):
    first, prefixlen = cidr._net(s["cluster_node_cidr"], "cluster_node_cidr")
    low, high = first, cidr._last(first, prefixlen)
    if prefixlen <= 30:
        low, high = low + 1, high - 1
    off = [h for h in hosts if not low <= ips[h][0] <= high]
    if off:
        name = "ansible_host (no kubebin_node_ip)" if off[0] in borrowed else "kubebin_node_ip"
        _fail(
            "%s of %s (%s) is not a host address of cluster_node_cidr %s: %s; set kubebin_node_ip"
            " to its address there, or fix cluster_node_cidr",
            name,
            ", ".join(off),
            ", ".join(ips[h][1] for h in off),
            s["cluster_node_cidr"],
            why,
        )


def _json(value):
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _slot_of(where, layout):
    """The slot of a subnet key's last part (``a.b.c.d-len``), or None when it is no subnet
    of this layout (another prefix length, outside the pod network, or the first subnet)."""
    (pod_first, pod_len), subnet_len = layout[:2]
    match = _SUBNET_KEY_RE.match(where)
    if not match or int(match.group(2)) != subnet_len:
        return None
    try:
        first = cidr._to_int(match.group(1))
    except cidr.netaddr.AddrFormatError:
        return None
    slot = (first - pod_first) >> (32 - subnet_len)
    if slot < 1 or slot >> (subnet_len - pod_len) or first & cidr._HOSTMASK[subnet_len]:
        return None
    return slot


def _parse_etcd(keys, s, layout):
    """Split etcd's keys into the network config, flannel's subnet keys and the kept subnets
    (both by slot); keys of another prefix or layout are not the model's business."""
    leases = {}  # slot -> {subnet, ip, node, ttl, key}
    kept = {}
    config = None
    if keys is None:
        return config, leases, kept
    if not isinstance(keys, list):
        _fail("etcd_keys: %s is not the list kubebin.cluster.etcd_v2 reads", _show(keys))
    flannel = s["cluster_flannel_etcd_prefix"]
    tables = ((flannel + "/subnets/", leases), (s["cluster_kept_subnets_prefix"] + "/", kept))
    for entry in keys:
        if not isinstance(entry, dict):
            continue
        key, value = str(entry.get("key", "")), _json(entry.get("value"))
        if key == flannel + "/config":
            config = value
            continue
        for prefix, table in tables:
            slot = _slot_of(key[len(prefix) :], layout) if key.startswith(prefix) else None
            if slot is not None and isinstance(value, dict):
                table[slot] = {
                    "subnet": _subnet(layout[0], layout[1], slot),
                    "ip": str(value.get("PublicIP", "")),
                    "node": str(value.get("node", "")),
                    "ttl": entry.get("ttl"),
                    "key": key,
                }
    return config, leases, kept


def _pinned(s, layout, nodes):
    """Validate cluster_pinned_subnets (every entry, listed nodes or not).

    Returns ({node: slot} for the nodes listed, every pinned slot): a subnet pinned for a name
    not in the inventory yet is held for it, never handed to another node.
    """
    pod, subnet_len = layout[:2]
    pins = {}
    owner = {}
    for name in sorted(s["cluster_pinned_subnets"], key=str):
        value = s["cluster_pinned_subnets"][name]
        arg = "cluster_pinned_subnets[%s]" % name
        try:
            first, prefixlen = cidr._net(value, arg)
        except cidr.CidrError as exc:
            raise ModelError(str(exc)) from None
        if prefixlen != subnet_len:
            _fail(
                "%s: %s is a /%d but cluster_pod_subnet_len is %d; pin a /%d",
                arg,
                value,
                prefixlen,
                subnet_len,
                subnet_len,
            )
        if not pod[0] <= first <= cidr._last(*pod):
            _fail(
                "%s: %s is outside cluster_pod_cidr %s; pin a subnet of the pod network",
                arg,
                value,
                cidr._cidr(*pod),
            )
        slot = (first - pod[0]) >> (32 - subnet_len)
        if slot == 0:
            _fail(
                "%s: %s is the first subnet of cluster_pod_cidr %s, which flanneld never leases;"
                " pin another",
                arg,
                value,
                cidr._cidr(*pod),
            )
        if slot in owner:
            _fail(
                "%s: %s is also pinned for %s; each subnet belongs to one node",
                arg,
                value,
                owner[slot],
            )
        owner[slot] = name
        if name in nodes:
            pins[name] = slot
    return pins, set(owner)


def _check_pin(name, slot, held, leases, layout, *, ip):
    """A pin must agree with what etcd holds for the node, and not be another address's."""
    pod, subnet_len = layout[:2]
    if held is not None and held != slot:
        _fail(
            "cluster_pinned_subnets[%s]: %s, but etcd holds %s for its address %s (%s):"
            " the node would change subnet under running pods; pin %s, or drop the pin",
            name,
            _subnet(pod, subnet_len, slot),
            leases[held]["subnet"],
            ip,
            leases[held]["key"],
            leases[held]["subnet"],
        )
    if held is None and slot in leases:
        _fail(
            "cluster_pinned_subnets[%s]: %s is held in etcd by another address (the key %s,"
            " PublicIP %s); pin a free subnet, or remove that key once its machine is gone",
            name,
            _subnet(pod, subnet_len, slot),
            leases[slot]["key"],
            leases[slot]["ip"] or "?",
        )


def _allocate(new, taken, layout):
    """The lowest free slots, in order, for the names in ``new``."""
    pod, subnet_len, slots = layout
    free = slots - len(taken)
    if len(new) > free:
        _fail(
            "cluster_pod_cidr %s is exhausted: %d subnets of /%d (flanneld never leases the"
            " first), %d held in etcd or pinned, %d new nodes need one; use a larger"
            " cluster_pod_cidr or a longer cluster_pod_subnet_len, or release kept subnets",
            cidr._cidr(*pod),
            slots,
            subnet_len,
            len(taken),
            len(new),
        )
    alloc = {}
    slot = 1
    for name in new:
        while slot in taken:
            slot += 1
        alloc[name] = (slot, "new")
        slot += 1
    return alloc


def _assign(nodes, ips, pinned, layout, *, leases, kept):
    """{name: (slot, source)} for every node; the rules are in the module docstring."""
    pins, pinned_slots = pinned
    by_ip = {}
    for slot in sorted(leases):
        by_ip.setdefault(leases[slot]["ip"], slot)
    kept_by_name = {}
    for slot in sorted(kept):
        if slot not in leases:
            kept_by_name.setdefault(kept[slot]["node"], slot)
    alloc = {}
    for name in sorted(nodes):
        held = by_ip.get(ips[name][1])
        if name in pins:
            _check_pin(name, pins[name], held, leases, layout, ip=ips[name][1])
            alloc[name] = (pins[name], "pinned")
        elif held is not None:
            alloc[name] = (held, "etcd")
        elif name in kept_by_name:
            alloc[name] = (kept_by_name[name], "kept")
    taken = set(leases) | set(kept) | {pair[0] for pair in alloc.values()} | pinned_slots
    alloc.update(_allocate([n for n in sorted(nodes) if n not in alloc], taken, layout))
    return alloc


def _subnet(pod, subnet_len, slot):
    return "%s/%d" % (cidr._to_str(pod[0] + (slot << (32 - subnet_len))), subnet_len)


def flannel_config(settings):
    """The flannel network config (``<prefix>/config``) the model's settings describe."""
    s = _settings(settings)
    return {
        "Network": s["cluster_pod_cidr"],
        "SubnetLen": s["cluster_pod_subnet_len"],
        "Backend": {"Type": s["cluster_flannel_backend"]},
    }


def san(value):
    """A subjectAltName entry: kept when it has a type, else IP: for addresses, DNS: for names."""
    value = str(value).strip()
    if re.match(r"(DNS|IP|email|URI):", value):
        return value
    if re.match(r"[0-9]+(\.[0-9]+){3}\Z", value) or ":" in value:
        return "IP:" + value
    return "DNS:" + value


def _unique(values):
    return list(dict.fromkeys(values))


def _with_fallback(hosts, node_ips, fallback_ips):
    """node_ips with each host that has none taking its fallback (ansible_host); and those hosts."""
    borrowed = set()
    if not fallback_ips:
        return node_ips, borrowed
    if not isinstance(fallback_ips, dict):
        _fail("fallback_ips: %s is not a dictionary of host -> ansible_host", _show(fallback_ips))
    if not isinstance(node_ips, dict):
        return node_ips, borrowed
    merged = dict(node_ips)
    for host in hosts:
        if not merged.get(host) and fallback_ips.get(host):
            merged[host] = fallback_ips[host]
            borrowed.add(host)
    return merged, borrowed


def _keys(s, layout):
    """(lease key, kept key) of a slot."""
    pod, subnet_len = layout[:2]
    flannel = s["cluster_flannel_etcd_prefix"]
    kept = s["cluster_kept_subnets_prefix"]

    def keys(slot):
        name = _subnet(pod, subnet_len, slot).replace("/", "-")
        return "%s/subnets/%s" % (flannel, name), "%s/%s" % (kept, name)

    return keys


def _routing(s, nodes, order, routers, *, service_via, ips):
    """(host-gw routes, each router's routes, the office gateway and routes)."""
    routes = sorted(
        ({"dest": n["subnet"], "via": n["ip"], "node": name} for name, n in nodes.items()),
        key=lambda r: order[r["node"]],
    )
    router_info = {}
    for name in routers:
        inside = name in nodes
        own = [] if inside else [{"dest": r["dest"], "via": r["via"]} for r in routes]
        router_info[name] = {"ip": ips[name][1], "in_cluster": inside, "routes": own}
    gateway = ips[routers[0]][1] if routers else ""
    office = [{"dest": s[k], "via": gateway} for k in ("cluster_pod_cidr", "cluster_service_cidr")]
    return routes, router_info, gateway, office if gateway else []


def _sans(s, etcd_hosts, control_plane, nodes, *, ips, kubernetes_ip):
    apiserver = []
    for host in control_plane:
        apiserver += [san(host), san(ips[host][1])]
    apiserver += [
        "IP:127.0.0.1",
        "DNS:localhost",
        "IP:" + kubernetes_ip,
        "DNS:kubernetes",
        "DNS:kubernetes.default",
        "DNS:kubernetes.default.svc",
        "DNS:kubernetes.default.svc." + str(s["cluster_domain"]),
    ]
    return {
        "etcd": {
            h: _unique([san(h), san(ips[h][1]), "IP:127.0.0.1", "DNS:localhost"])
            for h in etcd_hosts
        },
        "apiserver": _unique(apiserver),
        "kubelet": {h: _unique([san(h), san(nodes[h]["ip"])]) for h in sorted(nodes)},
    }


def _etcd_state(leases, kept, nodes, removing, *, ips, keys):
    """What etcd holds that is no node's (stale, kept) and what removing nodes leave there."""
    node_ips = {n["ip"] for n in nodes.values()} | {ips[h][1] for h in removing}
    stale = [
        {"subnet": lease["subnet"], "ip": lease["ip"], "key": lease["key"]}
        for _slot, lease in sorted(leases.items())
        if lease["ip"] not in node_ips
    ]
    kept_now = {
        entry["key"]: {"node": entry["node"], "ip": entry["ip"], "subnet": entry["subnet"]}
        for _slot, entry in sorted(kept.items())
        if entry["node"] not in nodes
    }
    reclaimed = sorted(entry["key"] for entry in kept.values() if entry["node"] in nodes)
    leaving = {}
    for name, (slot, subnet) in removing.items():
        lease_key, kept_key = keys(slot)
        leaving[name] = {
            "ip": ips[name][1],
            "subnet": subnet,
            "lease_key": lease_key,
            "kept_key": kept_key,
        }
    return stale, kept_now, reclaimed, leaving


def flannel_leases(keys, model):
    """Flannel's subnet keys (KEYS as ``kubebin.cluster.etcd_v2`` reads them) with whose they
    are: ``{leases: [{key, subnet, public_ip, node, ttl, reservation}], report: [line],
    convert: {key: {value}}}``. ``node`` is the k8s_cluster host of that address (``None``:
    no node's, a stale key); ``ttl`` 0 for a reservation; ``convert`` rewrites every lease
    (a key with a TTL) as a reservation with the same value (flannel's ``etcdctl set -ttl
    0``). Keys outside ``<flannel prefix>/subnets/`` are not leases and are left out."""
    prefix = str(model["settings"]["flannel_etcd_prefix"]).rstrip("/") + "/subnets/"
    by_ip = {node["ip"]: name for name, node in sorted((model.get("nodes") or {}).items())}
    leases = []
    for entry in sorted(keys or (), key=lambda e: str(e.get("key"))):
        key = str(entry.get("key", ""))
        if not key.startswith(prefix):
            continue
        value = entry.get("value")
        try:
            parsed = json.loads(value) if isinstance(value, str) else value
        except ValueError:
            parsed = None
        ip = parsed.get("PublicIP") if isinstance(parsed, dict) else None
        ttl = int(entry.get("ttl") or 0)
        leases.append(
            {
                "key": key,
                "subnet": key[len(prefix) :].replace("-", "/"),
                "public_ip": ip,
                "node": by_ip.get(ip),
                "ttl": ttl,
                "reservation": ttl == 0,
                "value": value,
            }
        )
    report = [
        "%s PublicIP=%s node=%s %s"
        % (
            lease["key"],
            lease["public_ip"],
            lease["node"] or "NOT-A-NODE",
            "reservation" if lease["reservation"] else "LEASE ttl=%ds" % lease["ttl"],
        )
        for lease in leases
    ]
    convert = {
        lease["key"]: {"value": lease["value"]} for lease in leases if not lease["reservation"]
    }
    for lease in leases:
        del lease["value"]
    return {"leases": leases, "report": report, "convert": convert}


def cluster_model(settings, groups, node_ips, etcd_keys=None, *, removing=None, fallback_ips=None):
    """Everything derived from the inventory (and what etcd holds), validated.

    Returns a dict:

    ``settings``            the settings as used, by their names without ``cluster_``
                            (``pod_cidr``, ``domain``...; defaults filled in, integers as integers)
    ``members``             ``{k8s, control_plane, nodes, etcd, routers, dns_proxy, office_dns,
                            nfs_server}``:
                            the hosts of each inventory group (``GROUPS``), less those removed
    ``host_kinds``          ``{host: {kinds, layers}}``: what each host is (node, etcd, router,
                            dns, nfs_server) and the layers that run there after preflight
    ``kube``                ``{version, minor, release, registry, config_dir, pki_dir,
                            apiserver_port, apiserver_url, log_level}``: ``release`` is the
                            minor's entry of ``kube_releases.yml``; ``registry`` the site's
                            (``cluster_image_registry``) or the release's; ``apiserver_url`` the
                            site's, else the first control-plane host's secure port
    ``cert_dirs``           ``{etcd, kube, flannel}``: where the pki role puts each component's
                            certificates on the hosts (and where the components read them)
    ``versions``            ``{kubernetes, etcd, flannel, kube_dns}``: the releases installed
                            (without a leading ``v``)
    ``flannel_config``      ``{Network, SubnetLen, Backend: {Type}}`` for ``<prefix>/config``
    ``kubernetes_service_ip``, ``dns_service_ip``
    ``etcd_endpoints``      ``["https://ip:port", ...]`` in the etcd group's order
    ``nodes``               ``{name: {ip, subnet, source, lease_key, groups}}`` for k8s_cluster
                            (``source``: pinned | etcd | kept | new)
    ``host_gw_routes``      ``[{dest, via, node}]`` sorted by subnet: each node's subnet via its
                            address. A node's own host-gw routes are this list without its entry
    ``routers``             ``{name: {ip, in_cluster, routes}}``: a router outside k8s_cluster
                            routes every node's subnet (host-gw); one inside needs none
                            (flanneld). The router role adds the service network's route
    ``service_via``         where a router outside the cluster sends the service network: the
                            first kube_node host's address (kube-proxy answers there)
    ``office_gateway``      the first router's address ('' without a router)
    ``office_routes``       ``[{dest, via}]``: the pod and service networks via the router
    ``reservations``        ``{lease_key: {value: {PublicIP, BackendType}}}`` flannel_network
                            writes (kubebin.cluster.etcd_v2's ``keys``)
    ``kept``                ``{key: {node, ip, subnet}}`` kept for removed nodes (not nodes now)
    ``kept_reclaimed``      kept keys of nodes that are back (flannel_network deletes them)
    ``stale``               ``[{subnet, ip, key}]``: flannel keys of addresses that are no node's
    ``removing``            ``{name: {ip, subnet, lease_key, kept_key}}`` for remove_nodes
    ``removing_kept``       ``{kept_key: {value: {node, PublicIP}}}``: what keeps their subnets
    ``removing_leases``     their flannel subnet keys (deleted: flanneld drops their routes)
    ``certificate_sans``    ``{etcd: {host: [...]}, apiserver: [...], kubelet: {host: [...]}}``
    ``etcd_config``         the network config etcd holds (None before flannel_network wrote it)
    ``environments``        ``{name: {namespace, quota, limits, labels}}`` (cluster_environments)
    ``teams``               ``{name: {cn, group, generation, bindings: [{namespace, role}],
                            namespaces}}`` (cluster_teams; plugin_utils/teams.py)
    ``from_etcd``           whether etcd's keys were read (False: worked out from the inventory)
    """
    s = _settings(settings)
    members, removing = _groups(groups, removing)
    k8s, etcd_hosts = members("k8s_cluster"), members("etcd")
    control_plane, routers = members("kube_control_plane"), members("router")
    kube_nodes = members("kube_node")
    _check_networks(s, len(k8s))
    kubernetes_ip, dns_ip = _service_ips(s)

    everyone = _unique(k8s + etcd_hosts + control_plane + routers + list(removing))
    node_ips, borrowed = _with_fallback(everyone, node_ips, fallback_ips)
    ips = _addresses(everyone, node_ips, s)
    why = "flannel host-gw routes each node's pod subnet straight to its address, on one L2 segment"
    _on_segment(k8s + list(removing), ips, s, why, borrowed)
    why = "a router outside k8s_cluster reaches each node's pod subnet the host-gw way"
    _on_segment([r for r in routers if r not in k8s], ips, s, why, borrowed)

    try:
        layout = cidr._flannel_layout(s["cluster_pod_cidr"], s["cluster_pod_subnet_len"])
    except cidr.CidrError as exc:
        raise ModelError(str(exc)) from None
    pod, subnet_len = layout[:2]
    config, leases, kept = _parse_etcd(etcd_keys, s, layout)
    pins = _pinned(s, layout, set(k8s) | set(removing))
    alloc = _assign(k8s + list(removing), ips, pins, layout, leases=leases, kept=kept)
    keys = _keys(s, layout)

    group_names = sorted(g for g in groups if g not in ("all", "ungrouped"))
    nodes = {
        name: {
            "ip": ips[name][1],
            "subnet": _subnet(pod, subnet_len, alloc[name][0]),
            "source": alloc[name][1],
            "lease_key": keys(alloc[name][0])[0],
            "groups": [g for g in group_names if name in (groups.get(g) or [])],
        }
        for name in sorted(k8s)
    }
    service_via = ips[(kube_nodes or k8s)[0]][1] if k8s else ""
    order = {name: pair[0] for name, pair in alloc.items()}
    routes, router_info, gateway, office_routes = _routing(
        s, nodes, order, routers, service_via=service_via, ips=ips
    )
    leaving = {
        name: (alloc[name][0], _subnet(pod, subnet_len, alloc[name][0])) for name in removing
    }
    stale, kept_now, reclaimed, leaving = _etcd_state(
        leases, kept, nodes, leaving, ips=ips, keys=keys
    )
    backend = s["cluster_flannel_backend"]
    kube = _kube(s, control_plane, ips)
    member_map = {role: members(group) for role, group in GROUPS.items()}
    try:
        envs = teams_mod.environments(
            s["cluster_environments"],
            s["cluster_environment_quota"],
            s["cluster_environment_limits"],
        )
        team_map = teams_mod.teams(s["cluster_teams"], envs)
    except teams_mod.TeamsError as exc:
        raise ModelError(str(exc)) from None
    return {
        "settings": {key[len("cluster_") :]: value for key, value in s.items()},
        "members": member_map,
        "host_kinds": _host_kinds(member_map),
        "kube": kube,
        "cert_dirs": {
            "etcd": s["cluster_etcd_pki_dir"],
            "kube": s["cluster_kube_pki_dir"],
            "flannel": s["cluster_flannel_pki_dir"],
        },
        "versions": {
            "kubernetes": kube["version"],
            "etcd": s["cluster_etcd_version"],
            "flannel": s["cluster_flannel_version"],
            "kube_dns": str(kube["release"]["kube_dns"]["version"]),
        },
        "flannel_config": {
            "Network": s["cluster_pod_cidr"],
            "SubnetLen": subnet_len,
            "Backend": {"Type": backend},
        },
        "etcd_config": config,
        "from_etcd": etcd_keys is not None,
        "kubernetes_service_ip": kubernetes_ip,
        "dns_service_ip": dns_ip,
        "etcd_endpoints": [
            "https://%s:%d" % (ips[h][1], s["cluster_etcd_client_port"]) for h in etcd_hosts
        ],
        "nodes": nodes,
        "host_gw_routes": routes,
        "routers": router_info,
        "service_via": service_via,
        "office_gateway": gateway,
        "office_routes": office_routes,
        "reservations": {
            n["lease_key"]: {"value": {"PublicIP": n["ip"], "BackendType": backend}}
            for n in nodes.values()
        },
        "kept": kept_now,
        "kept_reclaimed": reclaimed,
        "stale": stale,
        "removing": leaving,
        "removing_kept": {
            r["kept_key"]: {"value": {"node": name, "PublicIP": r["ip"]}}
            for name, r in leaving.items()
        },
        "removing_leases": sorted(r["lease_key"] for r in leaving.values()),
        "environments": envs,
        "teams": team_map,
        "certificate_sans": _sans(
            s, etcd_hosts, control_plane, nodes, ips=ips, kubernetes_ip=kubernetes_ip
        ),
    }
