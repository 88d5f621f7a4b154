# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The restarts filter: thin Ansible wrapper over plugin_utils.restarts."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.kubebin.cluster.plugins.plugin_utils import restarts as core


def services_to_restart(services, **kwargs):
    """The services to restart after this run's changes: see plugin_utils/restarts.py."""
    try:
        return core.services_to_restart(services, **kwargs)
    except core.RestartsError as exc:
        raise AnsibleFilterError("kubebin.cluster.services_to_restart: %s" % exc) from exc


class FilterModule:
    """What to restart."""

    def filters(self):
        return {"services_to_restart": services_to_restart}
