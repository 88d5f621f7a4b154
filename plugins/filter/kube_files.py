# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kubeconfig filter: thin Ansible wrapper over plugin_utils.kube_files."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.kubebin.cluster.plugins.plugin_utils import kube_files


def kubeconfig(kc, managed="Ansible managed"):
    """The text of kubeconfig KC (see plugin_utils/kube_files.py)."""
    try:
        return kube_files.kubeconfig(kc, managed=managed)
    except kube_files.FilesError as exc:
        raise AnsibleFilterError("kubebin.cluster.kubeconfig: %s" % exc) from exc


class FilterModule:
    """Kubernetes component files."""

    def filters(self):
        return {"kubeconfig": kubeconfig}
