#!/usr/bin/python
# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: swap_off
short_description: Turn swap off now and across reboots (the kubelet refuses to run with swap)
version_added: "0.1.0"
description:
  - Runs C(swapoff -a) when C(/proc/swaps) lists an active device, and comments out the swap
    lines of O(fstab) (marked, so an operator sees who did it). One module run.
  - Supports check mode and diff mode (the fstab change).
options:
  fstab:
    description: The file systems table; a missing file is not an error.
    type: path
    default: /etc/fstab
  marker:
    description: Appended to each line commented out.
    type: str
    default: "# swap off: kubebin.cluster.node_prep"
author:
  - kubebin.cluster maintainers (@kubebin)
"""

EXAMPLES = r"""
- name: Turn swap off
  kubebin.cluster.swap_off:
"""

RETURN = r"""
devices:
  description: The swap devices that were active (and were turned off).
  returned: always
  type: list
  elements: str
fstab_lines:
  description: The fstab lines commented out (or that would be).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kubebin.cluster.plugins.module_utils.swap import off


def main():
    module = AnsibleModule(
        argument_spec=dict(
            fstab=dict(type="path", default="/etc/fstab"),
            marker=dict(type="str", default="# swap off: kubebin.cluster.node_prep"),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**off(module, module.params["fstab"], module.params["marker"]))


if __name__ == "__main__":
    main()
