# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster model filter: thin Ansible wrapper over plugin_utils.cluster_model."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.kubebin.cluster.plugins.plugin_utils import cidr
from ansible_collections.kubebin.cluster.plugins.plugin_utils import cluster_model as core


def cluster_model(
    settings, groups, node_ips, etcd_keys=None, *, remove_nodes=None, fallback_ips=None
):
    """Everything derived from the inventory and etcd: see plugin_utils/cluster_model.py."""
    if cidr.NETADDR_IMPORT_ERROR is not None:
        raise AnsibleFilterError(
            "kubebin.cluster.cluster_model needs the Python library netaddr on the controller"
            " (pip install netaddr): %s" % cidr.NETADDR_IMPORT_ERROR
        )
    try:
        return core.cluster_model(
            settings, groups, node_ips, etcd_keys, removing=remove_nodes, fallback_ips=fallback_ips
        )
    except (core.ModelError, cidr.CidrError) as exc:
        raise AnsibleFilterError("kubebin.cluster.cluster_model: %s" % exc) from exc


def flannel_leases(keys, model):
    """Flannel's subnet keys with the node of each, a report line each and what turns the
    leases into reservations: see plugin_utils/cluster_model.py."""
    try:
        return core.flannel_leases(keys, model)
    except (KeyError, TypeError, AttributeError) as exc:
        raise AnsibleFilterError("kubebin.cluster.flannel_leases: %s" % exc) from exc


def renamed_settings(names):
    """Which of NAMES (the variables set) are cluster settings under their old names."""
    return core.renamed_in_use(names)


class FilterModule:
    """The cluster model."""

    def filters(self):
        return {
            "cluster_model": cluster_model,
            "flannel_leases": flannel_leases,
            "renamed_settings": renamed_settings,
        }
