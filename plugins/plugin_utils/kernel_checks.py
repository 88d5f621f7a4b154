# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Evaluate the kernel/OS bug catalogue against a host's facts (no Ansible import).

The catalogue (``kernel_rules.yml`` beside this file) is data. Each rule has ``id``,
``severity`` (CRIT, HIGH, MED, LOW, INFO), ``title``, ``symptom``, ``when`` (the detection),
``fix`` and ``source``, and optionally ``fixed_by`` (the collection's layers that remedy
it), ``applies_to`` (the kinds of host it concerns: node, etcd, router, dns, nfs_server;
default node) and ``runbook`` (the docs/runbooks section on-call reads). Findings carry
``id``, ``severity``, ``title``, ``fix``, ``source``, ``fixed_by`` and, when the rule has
one, ``runbook``.
``when`` is a list of conditions that must all hold; a condition is

* a combinator: ``{all: [...]}``, ``{any: [...]}``, ``{not: {...}}``;
* or a selector plus one operator. Selectors: ``fact: a.b`` (a key of the facts, dotted for
  nested keys), ``sysctl: name`` (``facts['sysctl'][name]``), ``package: name``
  (``facts['packages'][name]``, its version), ``module: name`` (whether ``name`` is in
  ``facts['modules']``), ``arg: {of: kubelet_args, flag: --name}`` (the value of a
  ``--name=value`` flag in a list of arguments).

Operators: ``eq``, ``ne``, ``in``, ``not_in`` (as strings); ``lt``, ``le``, ``gt``, ``ge``
(numbers); ``version_lt``/``_le``/``_gt``/``_ge`` (see versions.py); ``matches``,
``not_matches`` (regular expression search); ``present`` (true/false); ``nonempty``;
``any_gt`` (some number of a list is greater); ``ip_in_network_of``/``ip_not_in_network_of``
(the value is an IP; the operand names the fact holding the CIDR); ``ne_fact`` (differs from
another fact).

Missing input: when a selector's fact is absent the condition is *unknown*, and a rule only
fires when its detection is *true*, so a rule whose inputs were not gathered never fires.
``present: false`` is true only when the containing collection (``sysctl``, ``packages``,
``modules``, the argument list) was gathered and lacks the entry. ``all``/``any``/``not``
follow three-valued logic (false beats unknown in ``all``, true beats unknown in ``any``).
"""

from __future__ import annotations

import functools
import ipaddress
import os
import re

import yaml  # PyYAML ships with ansible-core

from . import cluster_model, versions

SEVERITIES = ("CRIT", "HIGH", "MED", "LOW", "INFO")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
RULE_KEYS = {"id", "severity", "title", "symptom", "when", "fix", "source"}
OPTIONAL_KEYS = {"fixed_by", "applies_to", "runbook"}
# What a host is (the cluster model's host_kinds): a rule applies to the hosts of the kinds in
# its ``applies_to`` (default: node, every k8s_cluster host).
KINDS = ("node", "etcd", "router", "dns", "nfs_server")
DEFAULT_APPLIES_TO = ("node",)
DEFAULT_CATALOGUE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kernel_rules.yml")

_MISSING = object()
UNKNOWN = None  # third truth value


class RuleError(ValueError):
    """A malformed rule or facts document; the message names the rule and the key."""


# --- selectors ---------------------------------------------------------------------------


def _dig(facts, path):
    node = facts
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return _MISSING if node is None else node


def _collection_member(collection_key, name):
    def get(facts):
        coll = facts.get(collection_key)
        if coll is None:
            return _MISSING, False
        return coll.get(name, _MISSING), True

    return get


def _member(list_key, item):
    def get(facts):
        items = facts.get(list_key)
        if items is None:
            return _MISSING, False
        return (item if item in {str(x) for x in items} else _MISSING), True

    return get


def _arg_value(of, flag):
    prefix = flag + "="

    def get(facts):
        args = facts.get(of)
        if args is None:
            return _MISSING, False
        for arg in args:
            text = str(arg)
            if text == flag:
                return "true", True
            if text.startswith(prefix):
                return text[len(prefix) :], True
        return _MISSING, True

    return get


def _selector(rule_id, cond):
    if "fact" in cond:
        path = tuple(str(cond["fact"]).split("."))
        return lambda facts: (_dig(facts, path), _dig(facts, path[:-1]) is not _MISSING)
    if "sysctl" in cond:
        return _collection_member("sysctl", str(cond["sysctl"]))
    if "package" in cond:
        return _collection_member("packages", str(cond["package"]))
    if "module" in cond:
        return _member("modules", str(cond["module"]))
    if "member" in cond:
        spec = cond["member"]
        if not isinstance(spec, dict) or {"of", "item"} - set(spec):
            raise RuleError(
                f"rule {rule_id}: 'member' needs {{of: <fact>, item: <x>}}, got {spec!r}"
            )
        return _member(str(spec["of"]), str(spec["item"]))
    if "arg" in cond:
        spec = cond["arg"]
        if not isinstance(spec, dict) or {"of", "flag"} - set(spec):
            raise RuleError(
                f"rule {rule_id}: 'arg' needs {{of: <fact>, flag: --name}}, got {spec!r}"
            )
        return _arg_value(str(spec["of"]), str(spec["flag"]))
    raise RuleError(
        f"rule {rule_id}: condition {cond!r} has no selector "
        "(fact, sysctl, package, module, member, arg)"
    )


# --- operators ---------------------------------------------------------------------------


def _s(value):
    """Comparison form of a value: booleans as 'true'/'false', the rest as str."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _num(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return _MISSING


def _version_op(want):
    def op(value, operand, _facts):
        try:
            return want(versions.compare(value, operand))
        except versions.VersionError:
            return UNKNOWN

    return op


def _num_op(test):
    def op(value, operand, _facts):
        number = _num(value)
        return UNKNOWN if number is _MISSING else test(number, float(operand))

    return op


def _in_network(expect):
    def op(value, operand, facts):
        cidr = _dig(facts, tuple(str(operand).split(".")))
        if cidr is _MISSING:
            return UNKNOWN
        try:
            inside = ipaddress.ip_address(str(value)) in ipaddress.ip_network(
                str(cidr), strict=False
            )
        except ValueError:
            return UNKNOWN
        return inside is expect

    return op


def _ne_fact(value, operand, facts):
    other = _dig(facts, tuple(str(operand).split(".")))
    return UNKNOWN if other is _MISSING else _s(value) != _s(other)


def _any_gt(value, operand, _facts):
    numbers = [_num(v) for v in (value if isinstance(value, (list, tuple)) else [value])]
    return any(n is not _MISSING and n > float(operand) for n in numbers)


OPERATORS = {
    "eq": lambda v, o, _f: _s(v).lower() == _s(o).lower(),
    "ne": lambda v, o, _f: _s(v).lower() != _s(o).lower(),
    "in": lambda v, o, _f: _s(v) in {_s(x) for x in o},
    "not_in": lambda v, o, _f: _s(v) not in {_s(x) for x in o},
    "lt": _num_op(lambda a, b: a < b),
    "le": _num_op(lambda a, b: a <= b),
    "gt": _num_op(lambda a, b: a > b),
    "ge": _num_op(lambda a, b: a >= b),
    "version_lt": _version_op(lambda c: c < 0),
    "version_le": _version_op(lambda c: c <= 0),
    "version_gt": _version_op(lambda c: c > 0),
    "version_ge": _version_op(lambda c: c >= 0),
    "nonempty": lambda v, o, _f: bool(v) is bool(o),
    "any_gt": _any_gt,
    "ip_in_network_of": _in_network(True),
    "ip_not_in_network_of": _in_network(False),
    "ne_fact": _ne_fact,
}
REGEX_OPERATORS = ("matches", "not_matches")
# Operators whose answer depends on other facts than the value itself (never memoised).
FACT_OPERATORS = {"ip_in_network_of", "ip_not_in_network_of", "ne_fact"}


def _compile(rule_id, cond):
    """A function facts -> True / False / UNKNOWN for one condition."""
    if not isinstance(cond, dict) or not cond:
        raise RuleError(f"rule {rule_id}: a condition must be a mapping, got {cond!r}")
    if "all" in cond or "any" in cond:
        key = "all" if "all" in cond else "any"
        parts = [_compile(rule_id, c) for c in _as_list(rule_id, cond[key], key)]
        return _all(parts) if key == "all" else _any(parts)
    if "not" in cond:
        inner = _compile(rule_id, cond["not"])

        def negate(facts):
            result = inner(facts)
            return UNKNOWN if result is UNKNOWN else not result

        return negate

    get = _selector(rule_id, cond)
    ops = [k for k in cond if k in OPERATORS or k in REGEX_OPERATORS or k == "present"]
    if len(ops) != 1:
        raise RuleError(
            f"rule {rule_id}: condition {cond!r} needs exactly one operator of "
            f"{sorted([*OPERATORS, *REGEX_OPERATORS, 'present'])}"
        )
    name = ops[0]
    operand = cond[name]

    if name == "present":
        want = bool(operand)

        def present(facts):
            value, container_known = get(facts)
            if not container_known:
                return UNKNOWN
            return (value is not _MISSING) is want

        return present

    if name in REGEX_OPERATORS:
        try:
            pattern = re.compile(str(operand))
        except re.error as exc:
            raise RuleError(f"rule {rule_id}: bad regular expression {operand!r}: {exc}") from exc
        found = name == "matches"

        seen = {}

        def regex(facts):
            value, _known = get(facts)
            if value is _MISSING:
                return UNKNOWN
            text = str(value)
            if text not in seen:
                seen[text] = (pattern.search(text) is not None) is found
            return seen[text]

        return regex

    func = OPERATORS[name]
    if name in FACT_OPERATORS:

        def leaf(facts):
            value, _known = get(facts)
            if value is _MISSING:
                return UNKNOWN
            return func(value, operand, facts)

        return leaf

    # A fleet repeats the same kernels, versions and sysctl values: remember each value's
    # answer (hashable values only), so 1,000 hosts cost a few hundred comparisons.
    memo = {}

    def memo_leaf(facts):
        value, _known = get(facts)
        if value is _MISSING:
            return UNKNOWN
        try:
            return memo[value]
        except KeyError:
            result = memo[value] = func(value, operand, facts)
            return result
        except TypeError:  # unhashable (a list)
            return func(value, operand, facts)

    return memo_leaf


def _as_list(rule_id, value, key):
    if not isinstance(value, list) or not value:
        raise RuleError(f"rule {rule_id}: '{key}' must be a non-empty list, got {value!r}")
    return value


def _all(parts):
    def run(facts):
        unknown = False
        for part in parts:
            result = part(facts)
            if result is False:
                return False
            if result is UNKNOWN:
                unknown = True
        return UNKNOWN if unknown else True

    return run


def _any(parts):
    def run(facts):
        unknown = False
        for part in parts:
            result = part(facts)
            if result is True:
                return True
            if result is UNKNOWN:
                unknown = True
        return UNKNOWN if unknown else False

    return run


# --- facts -------------------------------------------------------------------------------

# What the role passes besides the host's own facts (kubebin.cluster.host_facts): what is
# about to be installed.
PLANNED_KEYS = (
    "kube_version",
    "kube_proxy_mode",
    "flannel_version",
    "flannel_backend",
    "etcd_version",
    "kube_dns_version",
)


def _network_of(address, prefixlen):
    return ipaddress.ip_network("%s/%s" % (address, prefixlen), strict=False)


def _node_ip(model, name):
    for table in ("nodes", "routers"):
        entry = (model.get(table) or {}).get(name)
        if entry and entry.get("ip"):
            return entry["ip"]
    return None


def _addressing(host, model, name):
    """The node address's interface and on-link prefix, and (host-gw) the k8s peers outside
    it: what the host's interfaces really say, not the inventory."""
    out = {}
    addresses = host.get("ipv4_addresses")
    if addresses is None:
        return out
    for entry in addresses:
        if entry.get("iface") == "docker0":
            out["docker0_ip"] = entry["address"]
    node_ip = _node_ip(model, name)
    if node_ip is None:
        return out
    out["node_ip"] = node_ip
    mine = [a for a in addresses if a.get("address") == node_ip]
    out["node_ip_on_host"] = bool(mine)
    if not mine:
        return out
    out["node_iface"] = mine[0]["iface"]
    out["node_prefixlen"] = int(mine[0]["prefixlen"])
    if name in (model.get("nodes") or {}):
        onlink = _network_of(node_ip, mine[0]["prefixlen"])
        out["flannel_offlink_peers"] = sorted(
            peer["ip"]
            for peer_name, peer in model["nodes"].items()
            if peer_name != name and ipaddress.ip_address(peer["ip"]) not in onlink
        )
    return out


def _lease_ttls(etcd_keys, model, node_ip):
    """TTLs (0: a reservation) of the flannel subnet keys etcd holds for NODE_IP."""
    leases = cluster_model.flannel_leases(etcd_keys, model)["leases"]
    return [lease["ttl"] for lease in leases if lease["public_ip"] == node_ip]


def _kubelet_resolv_loopback(host):
    """Loopback nameservers in the file kubelet hands to pods with dnsPolicy Default (and to
    kube-dns's dnsmasq as its upstream): its --resolv-conf, else /etc/resolv.conf."""
    files = host.get("resolv_conf")
    if files is None:
        return None
    path = "/etc/resolv.conf"
    for arg in host.get("kubelet_args") or ():
        if str(arg).startswith("--resolv-conf="):
            path = str(arg).split("=", 1)[1]
    if not path:
        return []  # --resolv-conf= turns the host's resolvers off for pods
    if path not in files:
        return None
    loopback = []
    for server in files[path]:
        try:
            if ipaddress.ip_address(server).is_loopback:
                loopback.append(server)
        except ValueError:
            continue
    return loopback


def _nfs(host, model):
    out = {}
    mounts = host.get("nfs_mounts")
    if mounts is None:
        return out
    out["nfs_volumes"] = bool(mounts) or bool((model.get("members") or {}).get("nfs_server"))
    out["nfs_v3_volumes"] = any(
        "vers=3" in m["options"] or "nfsvers=3" in m["options"] for m in mounts
    )
    out["nfs_soft_mounts"] = sorted(m["mountpoint"] for m in mounts if "soft" in m["options"])
    if host.get("nfs_unreachable") is not None:
        out["nfs_server_unreachable"] = bool(host["nfs_unreachable"])
    return out


def rule_facts(host, model, name, *, os_facts=None, planned=None, etcd_keys=None, extra=None):
    """The facts the catalogue's rules read, for host NAME.

    HOST is what ``kubebin.cluster.host_facts`` gathered there; MODEL the cluster model
    (settings, nodes, routers, members, host_kinds); OS_FACTS ``{os_family,
    distribution_version}``; PLANNED what is about to be installed (``PLANNED_KEYS``);
    ETCD_KEYS the keys under flannel's prefix as ``kubebin.cluster.etcd_v2`` reads them (None:
    etcd was not read, e.g. before it is installed); EXTRA overrides, last.

    Derived here: ``kinds``; ``service_cidr``, ``cluster_domain``; ``node_ip``,
    ``node_ip_on_host``, ``node_iface``, ``node_prefixlen`` and ``flannel_offlink_peers`` (from
    the host's real addresses); ``docker0_ip``; ``flannel_subnet`` (flannel's subnet.env);
    ``flannel_lease_ttls``; ``kubelet_resolv_loopback``; ``nfs_volumes``, ``nfs_v3_volumes``,
    ``nfs_soft_mounts``, ``nfs_server_unreachable``; ``selinux_enforcing``.
    """
    if not isinstance(host, dict):
        raise RuleError(f"host facts of {name} must be a mapping, got {type(host).__name__}")
    facts = dict(host)
    for key, value in (os_facts or {}).items():
        facts[key] = value
    planned = dict(planned or {})
    unknown = set(planned) - set(PLANNED_KEYS)
    if unknown:
        raise RuleError(f"planned: unknown keys {sorted(unknown)}; known: {list(PLANNED_KEYS)}")
    facts.update(planned)
    settings = model.get("settings") or {}
    facts["service_cidr"] = settings.get("service_cidr")
    facts["cluster_domain"] = settings.get("domain")
    facts["kinds"] = list(((model.get("host_kinds") or {}).get(name) or {}).get("kinds") or [])
    facts.update(_addressing(host, model, name))
    subnet = (host.get("flannel_env") or {}).get("FLANNEL_SUBNET")
    if subnet:
        facts["flannel_subnet"] = subnet
    if etcd_keys is not None and facts.get("node_ip") and name in (model.get("nodes") or {}):
        facts["flannel_lease_ttls"] = _lease_ttls(etcd_keys, model, facts["node_ip"])
    loopback = _kubelet_resolv_loopback(host)
    if loopback is not None:
        facts["kubelet_resolv_loopback"] = loopback
    facts.update(_nfs(host, model))
    selinux = host.get("selinux")
    if isinstance(selinux, dict):
        facts["selinux_enforcing"] = selinux.get("enforce") == "1"
    facts.update(extra or {})
    return {k: v for k, v in facts.items() if v is not None}


# --- catalogue ---------------------------------------------------------------------------


def validate_rule(rule):
    """Check one rule's shape; returns its id."""
    if not isinstance(rule, dict):
        raise RuleError(f"a rule must be a mapping, got {rule!r}")
    rule_id = rule.get("id", "<no id>")
    missing = RULE_KEYS - set(rule)
    if missing:
        raise RuleError(f"rule {rule_id}: missing keys {sorted(missing)}")
    unknown = set(rule) - RULE_KEYS - OPTIONAL_KEYS
    if unknown:
        raise RuleError(f"rule {rule_id}: unknown keys {sorted(unknown)}")
    fixed_by = rule.get("fixed_by", [])
    if not isinstance(fixed_by, list) or not all(isinstance(x, str) for x in fixed_by):
        raise RuleError(f"rule {rule_id}: fixed_by must be a list of layer names, got {fixed_by!r}")
    applies_to = rule.get("applies_to", list(DEFAULT_APPLIES_TO))
    if (
        not isinstance(applies_to, list)
        or not applies_to
        or not all(kind in KINDS for kind in applies_to)
    ):
        raise RuleError(
            f"rule {rule_id}: applies_to must be a list of host kinds of {list(KINDS)},"
            f" got {applies_to!r}"
        )
    if rule["severity"] not in SEVERITY_RANK:
        raise RuleError(
            f"rule {rule_id}: severity {rule['severity']!r} is not one of {list(SEVERITIES)}"
        )
    _as_list(rule_id, rule["when"], "when")
    return rule_id


class Catalogue:
    """Rules compiled once; ``evaluate(facts)`` returns the findings, most severe first."""

    def __init__(self, rules):
        if not isinstance(rules, list):
            raise RuleError(
                f"the rule catalogue must be a list of rules, got {type(rules).__name__}"
            )
        seen = set()
        compiled = []
        for rule in rules:
            rule_id = validate_rule(rule)
            if rule_id in seen:
                raise RuleError(f"rule id {rule_id} appears twice in the catalogue")
            seen.add(rule_id)
            detect = _all([_compile(rule_id, c) for c in rule["when"]])
            finding = {k: rule[k] for k in ("id", "severity", "title", "fix", "source")}
            finding["fixed_by"] = list(rule.get("fixed_by", []))
            if rule.get("runbook"):
                finding["runbook"] = str(rule["runbook"])
            kinds = frozenset(rule.get("applies_to", DEFAULT_APPLIES_TO))
            compiled.append((SEVERITY_RANK[rule["severity"]], rule_id, detect, finding, kinds))
        compiled.sort(key=lambda item: (item[0], item[1]))
        self.rules = rules
        self._compiled = compiled

    def evaluate(self, facts):
        """The findings for FACTS. With ``facts["kinds"]`` (what the host is: node, etcd,
        router, dns, nfs_server), only the rules that apply to one of those kinds; without it,
        every rule."""
        if not isinstance(facts, dict):
            raise RuleError(f"facts must be a mapping, got {type(facts).__name__}")
        kinds = facts.get("kinds")
        if kinds is not None:
            if isinstance(kinds, str) or not all(k in KINDS for k in kinds):
                raise RuleError(f"kinds must be a list of {list(KINDS)}, got {kinds!r}")
            kinds = frozenset(kinds)
        return [
            dict(finding)
            for _r, _i, detect, finding, applies in self._compiled
            if (kinds is None or kinds & applies) and detect(facts) is True
        ]

    def evaluate_many(self, hosts):
        """{host: findings} for {host: facts}."""
        return {host: self.evaluate(facts) for host, facts in hosts.items()}


def load_rules(path=DEFAULT_CATALOGUE):
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    return data["rules"] if isinstance(data, dict) else data


@functools.lru_cache(maxsize=1)
def default_catalogue():
    return Catalogue(load_rules())


def kernel_findings(facts, rules=None):
    catalogue = default_catalogue() if rules is None else Catalogue(rules)
    return catalogue.evaluate(facts)


BLOCKING_SEVERITIES = ("CRIT", "HIGH")


def triage(findings, accepted=(), fixing_layers=(), allow_high=False):
    """Sort findings into accepted, fixed (by a layer of this run), blocking and advisory.

    ``accepted`` holds rule ids the site accepts; ``fixing_layers`` names the collection's
    layers that run after preflight; a finding whose ``fixed_by`` names one of them is
    ``fixed``. Of the rest, CRIT (and HIGH unless ``allow_high``) findings block.
    """
    if not isinstance(findings, list):
        raise RuleError(f"findings must be a list, got {type(findings).__name__}")
    accepted = {str(a) for a in accepted}
    fixing = {str(layer) for layer in fixing_layers}
    blocking_severities = ("CRIT",) if allow_high else BLOCKING_SEVERITIES
    result = {"accepted": [], "fixed": [], "blocking": [], "advisory": []}
    for finding in findings:
        if finding["id"] in accepted:
            result["accepted"].append(finding)
        elif fixing.intersection(finding.get("fixed_by", ())):
            result["fixed"].append(finding)
        elif finding["severity"] in blocking_severities:
            result["blocking"].append(finding)
        else:
            result["advisory"].append(finding)
    return result


def _status(finding_id, triage, accepted, layers):
    if finding_id in accepted:
        return "accepted: %s" % accepted[finding_id]
    for finding in triage.get("fixed", ()):
        if finding["id"] == finding_id:
            by = [x for x in finding.get("fixed_by", ()) if x in layers]
            return "fixed by %s" % ", ".join(by)
    if any(f["id"] == finding_id for f in triage.get("blocking", ())):
        return "BLOCKING"
    return "advisory"


def report(results, accepted=None, allow_high=False):
    """The preflight report of a run: RESULTS is {host: {kernel, facts, findings, triage,
    fixing_layers, kinds}} (None for a host that got no result: it failed before); ACCEPTED
    the site's {id: why}. Hosts sorted by name."""
    accepted = dict(accepted or {})
    hosts = {}
    for host in sorted(results):
        result = results[host] or {}
        triage = result.get("triage") or {}
        hosts[host] = {
            "kernel": result.get("kernel"),
            "kinds": list(result.get("kinds") or []),
            "fixing_layers": list(result.get("fixing_layers") or []),
            "facts": result.get("facts") or {},
            "findings": list(result.get("findings") or []),
            "accepted": [f["id"] for f in triage.get("accepted", ())],
            "fixed": [f["id"] for f in triage.get("fixed", ())],
            "blocking": [f["id"] for f in triage.get("blocking", ())],
        }
    return {"accepted_findings": accepted, "allow_high": bool(allow_high), "hosts": hosts}


def report_table(rep):
    """REP (``report``) as text lines: one per host and finding - host, severity, id, status
    (BLOCKING, accepted: why, fixed by <layer>, advisory), title and fix; a host without
    findings on one line."""
    rows = []
    accepted = rep.get("accepted_findings") or {}
    for host, entry in sorted((rep.get("hosts") or {}).items()):
        kinds = ",".join(entry.get("kinds") or []) or "-"
        if not entry.get("findings"):
            rows.append((host, kinds, "", "", "no findings", ""))
            continue
        triage = {
            "fixed": [f for f in entry["findings"] if f["id"] in entry.get("fixed", ())],
            "blocking": [{"id": i} for i in entry.get("blocking", ())],
        }
        for finding in entry["findings"]:
            rows.append(
                (
                    host,
                    kinds,
                    finding["severity"],
                    finding["id"],
                    _status(finding["id"], triage, accepted, entry.get("fixing_layers") or ()),
                    "%s -- fix: %s%s"
                    % (
                        finding["title"],
                        finding["fix"],
                        " (runbook: %s)" % finding["runbook"] if finding.get("runbook") else "",
                    ),
                )
            )
    head = ("host", "kinds", "sev", "finding", "status", "what -- fix")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(5)]
    lines = []
    for row in [head, *rows]:
        cells = [str(row[i]).ljust(widths[i]) for i in range(5)]
        lines.append("  ".join([*cells, str(row[5])]).rstrip())
    blocking = sum(len(e.get("blocking") or ()) for e in (rep.get("hosts") or {}).values())
    lines.append(
        "%d host(s), %d blocking finding(s)%s"
        % (
            len(rep.get("hosts") or {}),
            blocking,
            "" if not blocking else ": fix them or accept them (preflight_accepted_findings)",
        )
    )
    return lines


def fact_sets_report(sets, model, *, planned=None, accepted=None, allow_high=False):
    """The preflight report (``report``) for recorded fact sets instead of live hosts: SETS is
    ``{host: {os: {os_family, distribution_version}, host: <host_facts' host>}}`` (as
    tools/lab/record_host_facts.yml writes them). Each host is held to the rules of what the
    cluster MODEL says it is, and credited with the layers site.yml runs there."""
    if not isinstance(sets, dict):
        raise RuleError(f"fact sets must be a mapping of host to {{os, host}}, got {sets!r}")
    kinds = model.get("host_kinds") or {}
    unknown = sorted(set(sets) - set(kinds))
    if unknown:
        raise RuleError(
            f"fact sets for hosts the inventory does not have in a cluster group: {unknown};"
            " record the inventory's hosts (names as in the inventory)"
        )
    accepted = dict(accepted or {})
    results = {}
    for host, entry in sorted(sets.items()):
        if not isinstance(entry, dict) or not isinstance(entry.get("host"), dict):
            raise RuleError(
                f"fact set of {host}: needs {{os, host}}, got keys {sorted(entry or {})}"
            )
        facts = rule_facts(entry["host"], model, host, os_facts=entry.get("os"), planned=planned)
        findings = kernel_findings(facts)
        layers = list(kinds[host].get("layers") or [])
        results[host] = {
            "kernel": facts.get("kernel"),
            "kinds": facts["kinds"],
            "fixing_layers": layers,
            "facts": facts,
            "findings": findings,
            "triage": triage(findings, accepted, layers, allow_high),
        }
    return report(results, accepted, allow_high)
