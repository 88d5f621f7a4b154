# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The flags filter: thin Ansible wrapper over plugin_utils.flags."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.kubebin.cluster.plugins.plugin_utils import flags as core


def merge_flags(base, *layers):
    """BASE's flags overridden by each of LAYERS; a flag set to None is dropped."""
    try:
        return core.merge_flags(base, *layers)
    except core.FlagsError as exc:
        raise AnsibleFilterError("kubebin.cluster.merge_flags: %s" % exc) from exc


class FilterModule:
    """Command-line flags from layers."""

    def filters(self):
        return {"merge_flags": merge_flags}
