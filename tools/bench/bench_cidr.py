# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: kubebin.cluster's CIDR filters vs doing the same work with ansible.utils filters.

Run with the venv's python from anywhere:  .venv/bin/python tools/bench/bench_cidr.py

For each case it times our plugin_utils function (best of 3, time.perf_counter) and the same
work written "the usual way": a Jinja template using ansible.utils' ipaddr-family filters,
rendered in-process by a plain jinja2.Environment (with the `do` extension) in which the real
ansible.utils filter functions are registered under their FQCNs. A plain Environment is
cheaper than Ansible's own Templar, so the ansible.utils times are a lower bound. The
templates do no input validation beyond what the filters do themselves; ours validates every
input. Both outputs are compared for equality.

When the ansible.utils way would take more than --budget seconds per run at full size (estimated
from a probe at a small size), it runs at a smaller size and its time is scaled up by the
case's complexity (all cases here are linear in the size except host-gw for every node, which
is quadratic in nodes because of the n*(n-1) routes); the table says when it did.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "collections"))

import ansible_collections  # noqa: E402
import jinja2  # noqa: E402
import netaddr  # noqa: E402
from ansible import __version__ as ansible_version  # noqa: E402

from ansible_collections.kubebin.cluster.plugins.plugin_utils import cidr  # noqa: E402

ANSIBLE_UTILS_FILTERS = ("ipaddr", "ipsubnet", "ipv4", "network_in_usable", "cidr_merge")
GATEWAY = "192.168.2.71"


def ansible_utils_env():
    """A Jinja environment with ansible.utils' filters registered as ansible.utils.NAME."""
    env = jinja2.Environment(extensions=["jinja2.ext.do"], autoescape=False)
    for module_name in ANSIBLE_UTILS_FILTERS:
        module = importlib.import_module(
            "ansible_collections.ansible.utils.plugins.filter." + module_name
        )
        for name, func in module.FilterModule().filters().items():
            env.filters["ansible.utils." + name] = func
    return env


def ansible_utils_version():
    for base in ansible_collections.__path__:
        manifest = Path(base) / "ansible" / "utils" / "MANIFEST.json"
        if manifest.is_file():
            return json.loads(manifest.read_text())["collection_info"]["version"]
    return "?"


def best_of(func, runs=3, budget=None):
    """Best wall time of up to `runs` calls, how many ran, and the last call's result.

    With a budget, a call that took over a quarter of it is not repeated."""
    best = None
    result = None
    done = 0
    for _run in range(runs):
        start = time.perf_counter()
        result = func()
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
        done += 1
        if budget is not None and elapsed * 4 > budget:
            break
    return best, done, result


# ------------------------------------------------------------------------------------------
# Data
# ------------------------------------------------------------------------------------------
def make_nodes(count, seed=1):
    """count nodes named nodeNNNNN with IPs in 192.168.0.0/16, in a shuffled order."""
    nodes = [
        {"name": "node%05d" % i, "ip": "192.168.%d.%d" % (i >> 8, i & 255)}
        for i in range(1, count + 1)
    ]
    random.Random(seed).shuffle(nodes)
    return nodes


NODE_CIDR = "192.168.0.0/16"
POD_CIDR = "10.0.0.0/8"


def host_gw_input(count):
    nodes = make_nodes(count)
    subnets = cidr.flannel_subnets(nodes, POD_CIDR, 24)
    ips = {n["name"]: n["ip"] for n in nodes}
    # Present the nodes in input (shuffled) order, as an inventory would.
    return {n["name"]: subnets[n["name"]] for n in nodes}, ips


def make_dests(count, seed=2):
    """count destination CIDRs: distinct /24s, duplicates of them, /28s inside them, hosts."""
    rng = random.Random(seed)
    n24 = count * 8 // 10
    nets = ["10.%d.%d.0/24" % divmod(i, 256) for i in rng.sample(range(65536), n24)]
    dests = list(nets)
    dests += rng.sample(nets, count // 10)  # duplicates
    for net in rng.sample(nets, count // 20):  # contained in a listed /24
        dests.append(net.replace(".0/24", ".%d/28" % (16 * rng.randrange(16))))
    while len(dests) < count:  # standalone hosts
        dests.append("172.16.%d.%d/32" % (rng.randrange(256), rng.randrange(1, 255)))
    rng.shuffle(dests)
    return dests


# ------------------------------------------------------------------------------------------
# The usual way: Jinja templates with ansible.utils filters
# ------------------------------------------------------------------------------------------
TPL_FLANNEL = """
{%- for n in nodes | sort(attribute='name') -%}
  {%- do result.update({n.name: pod_cidr | ansible.utils.ipsubnet(subnet_len, loop.index)}) -%}
{%- endfor -%}
"""

TPL_HOST_GW = """
{%- set entries = [] -%}
{%- for n, s in node_subnets.items() -%}
  {%- if not (node_cidr | ansible.utils.network_in_usable(node_ips[n])) -%}
    {%- do bad.append(n) -%}
  {%- endif -%}
  {%- do entries.append({'node': n,
        'key': s | ansible.utils.ipaddr('network') | ansible.utils.ipaddr('int'),
        'dest': s | ansible.utils.ipaddr('subnet'),
        'via': node_ips[n] | ansible.utils.ipaddr('address')}) -%}
{%- endfor -%}
{%- set ordered = entries | sort(attribute='key') -%}
{%- for n in wanted -%}
  {%- set routes = [] -%}
  {%- for e in ordered if e.node != n -%}
    {%- do routes.append({'dest': e.dest, 'via': e.via}) -%}
  {%- endfor -%}
  {%- do result.update({n: routes}) -%}
{%- endfor -%}
"""

TPL_ROUTES = """
{%- set items = [] -%}
{%- for d in dests | unique -%}
  {%- do items.append({'d': d,
        'first': d | ansible.utils.ipaddr('network') | ansible.utils.ipaddr('int'),
        'plen': d | ansible.utils.ipaddr('prefix')}) -%}
{%- endfor -%}
{%- set ns = namespace(end=-1) -%}
{%- for i in items | sort(attribute='first,plen') if i.first > ns.end -%}
  {%- set ns.end = i.first + (i.d | ansible.utils.ipaddr('size')) - 1 -%}
  {%- if i.plen == 32 -%}
    {%- do result.append('route add -host ' ~ (i.d | ansible.utils.ipaddr('network'))
                         ~ ' gw ' ~ gateway) -%}
  {%- else -%}
    {%- do result.append('route add -net ' ~ (i.d | ansible.utils.ipaddr('network'))
                         ~ ' netmask ' ~ (i.d | ansible.utils.ipaddr('netmask'))
                         ~ ' gw ' ~ gateway) -%}
  {%- endif -%}
{%- endfor -%}
"""

TPL_MERGE = """
{%- for d in dests | ansible.utils.cidr_merge -%}
  {%- do result.append('ip route add ' ~ d ~ ' via ' ~ gateway) -%}
{%- endfor -%}
"""


def render(template, result, **variables):
    template.render(result=result, **variables)
    return result


# ------------------------------------------------------------------------------------------
# Cases: (label, full size, complexity exponent, probe size, ours(size), theirs(size))
# ------------------------------------------------------------------------------------------
def build_cases(env):
    tpl_flannel = env.from_string(TPL_FLANNEL)
    tpl_host_gw = env.from_string(TPL_HOST_GW)
    tpl_routes = env.from_string(TPL_ROUTES)
    tpl_merge = env.from_string(TPL_MERGE)

    def flannel(size):
        nodes = make_nodes(size)
        return (
            lambda: cidr.flannel_subnets(nodes, POD_CIDR, 24),
            lambda: render(tpl_flannel, {}, nodes=nodes, pod_cidr=POD_CIDR, subnet_len=24),
        )

    def host_gw_template(subnets, ips, wanted):
        """The usual way: the host-gw template for the WANTED nodes (it flags nodes off-segment)."""

        def theirs():
            bad = []
            result = render(
                tpl_host_gw,
                {},
                node_subnets=subnets,
                node_ips=ips,
                node_cidr=NODE_CIDR,
                wanted=wanted,
                bad=bad,
            )
            assert not bad, bad
            return result

        return theirs

    def host_gw_all(size):
        subnets, ips = host_gw_input(size)
        return (
            lambda: cidr.host_gw_routes(subnets, ips, NODE_CIDR),
            host_gw_template(subnets, ips, sorted(subnets)),
        )

    def host_gw_one(size):
        subnets, ips = host_gw_input(size)
        one = "node%05d" % (size // 2)
        return (
            lambda: cidr.host_gw_routes(subnets, ips, NODE_CIDR, only=[one]),
            host_gw_template(subnets, ips, [one]),
        )

    def routes(size):
        dests = make_dests(size)
        return (
            lambda: cidr.route_commands(dests, GATEWAY, "linux"),
            lambda: render(tpl_routes, [], dests=dests, gateway=GATEWAY),
        )

    def merged(size):
        dests = make_dests(size)
        return (
            lambda: cidr.route_commands(dests, GATEWAY, "iproute2", merge=True),
            lambda: render(tpl_merge, [], dests=dests, gateway=GATEWAY),
        )

    return [
        ("flannel_subnets, nodes in 10.0.0.0/8 by /24", 10000, 1, 500, flannel),
        ("host_gw_routes, every node (n*(n-1) routes)", 1000, 2, 300, host_gw_all),
        ("host_gw_routes, only=[one node] of n", 10000, 1, 1000, host_gw_one),
        ("route_commands linux, CIDRs (dups, nested)", 1000, 1, 100, routes),
        ("route_commands iproute2 merge=true (extra)", 1000, 1, 100, merged),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument(
        "--budget",
        type=float,
        default=30.0,
        help="seconds one run of the ansible.utils way may take before it is run smaller"
        " and scaled (default 30)",
    )
    args = parser.parse_args(argv)

    print(
        "python %s, netaddr %s, jinja2 %s, ansible-core %s, ansible.utils %s"
        % (
            platform.python_version(),
            netaddr.__version__,
            jinja2.__version__,
            ansible_version,
            ansible_utils_version(),
        )
    )
    env = ansible_utils_env()
    rows = []
    for label, size, exponent, probe, case in build_cases(env):
        ours_fn = case(size)[0]
        ours_time, ours_runs = best_of(ours_fn)[:2]

        # Estimate the ansible.utils way at full size from a probe, then pick its size.
        probe_time = best_of(case(probe)[1], runs=1)[0]
        estimate = probe_time * (size / probe) ** exponent
        their_size = size
        if estimate > args.budget:
            their_size = int(probe * (args.budget / 2 / probe_time) ** (1 / exponent))
            their_size = max(probe, min(size, their_size))
        ours_same, theirs_fn = case(their_size)
        their_time, their_runs, their_result = best_of(theirs_fn, budget=args.budget)
        equal = ours_same() == their_result
        scale = (size / their_size) ** exponent
        their_full = their_time * scale
        rows.append(
            (label, size, ours_time, ours_runs, their_size, their_time, their_runs, scale, equal)
        )
        note = "" if scale == 1 else ", scaled x%.1f from n=%d" % (scale, their_size)
        print(
            "  %-46s n=%-6d ours %.4fs  ansible.utils %.3fs%s  equal=%s"
            % (label, size, ours_time, their_full, note, equal)
        )
        sys.stdout.flush()

    print()
    header = "| case | n | ours (s) | ansible.utils way (s) | ratio | same output |"
    print(header)
    print("|---|---:|---:|---:|---:|:---:|")
    ok = True
    for label, size, ours, _ours_runs, their_size, their, runs, scale, equal in rows:
        their_full = their * scale
        how = "%.3f" % their_full
        if scale != 1:
            how += " (measured %.3f at n=%d, scaled x%.1f)" % (their, their_size, scale)
        if runs < 3:
            how += " [best of %d]" % runs
        ratio = their_full / ours
        print(
            "| %s | %d | %.4f | %s | %.0fx | %s |"
            % (label, size, ours, how, ratio, "yes" if equal else "NO")
        )
        core_case = "(extra)" not in label
        ok = ok and equal and (not core_case or (ours < 1.0 and ratio >= 10))
    print()
    print(
        "targets (each core case under 1 s and >= 10x faster, same output): %s"
        % ("met" if ok else "NOT met")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
