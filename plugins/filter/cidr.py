# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CIDR routing-math filters of kubebin.cluster.

Thin wrappers around ``plugins/plugin_utils/cidr.py``: each filter calls the core and turns its
``CidrError`` into ``AnsibleFilterError`` (and a missing netaddr into a clear error at use time,
so the file still loads without it). Every filter's documentation sits next to this file
in ``<filter name>.yml`` (that is where ansible-doc reads it for a multi-filter file).
"""

from __future__ import annotations

from functools import wraps

from ansible.errors import AnsibleFilterError

from ansible_collections.kubebin.cluster.plugins.plugin_utils import cidr as core


def _wrap(func):
    name = "kubebin.cluster." + func.__name__

    @wraps(func)
    def wrapper(*args, **kwargs):
        if core.NETADDR_IMPORT_ERROR is not None:
            raise AnsibleFilterError(
                "%s needs the Python library netaddr on the controller (pip install netaddr): %s"
                % (name, core.NETADDR_IMPORT_ERROR)
            )
        try:
            return func(*args, **kwargs)
        except core.CidrError as exc:
            raise AnsibleFilterError("%s: %s" % (name, exc)) from exc

    return wrapper


cluster_check = _wrap(core.cluster_check)
service_ip = _wrap(core.service_ip)
flannel_subnets = _wrap(core.flannel_subnets)
flannel_lease_key = _wrap(core.flannel_lease_key)
host_gw_routes = _wrap(core.host_gw_routes)
route_commands = _wrap(core.route_commands)
route_files = _wrap(core.route_files)
dnsmasq_split = _wrap(core.dnsmasq_split)
stale_routes = _wrap(core.stale_routes)


class FilterModule:
    """CIDR routing math: cluster checks, service IPs, flannel subnets, routes, split DNS."""

    def filters(self):
        return {
            "cluster_check": cluster_check,
            "service_ip": service_ip,
            "flannel_subnets": flannel_subnets,
            "flannel_lease_key": flannel_lease_key,
            "host_gw_routes": host_gw_routes,
            "route_commands": route_commands,
            "route_files": route_files,
            "dnsmasq_split": dnsmasq_split,
            "stale_routes": stale_routes,
        }
