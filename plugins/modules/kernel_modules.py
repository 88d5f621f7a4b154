#!/usr/bin/python
# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kernel_modules
short_description: Load kernel modules where the kernel has them, and report the rest
version_added: "0.1.0"
description:
  - For each module name, decides whether the running kernel already provides it (loaded,
    built in, or its feature is visible in C(/proc)), loads it with C(modprobe) when the
    kernel ships it as a loadable module, and otherwise reports it as missing.
  - Unlike M(community.general.modprobe) it never fails because a module is absent; a node
    whose kernel lacks C(ip_vs) still gets prepared, and the preflight layer reports the gap.
  - Built-in detection uses C(/sys/module/NAME), C(/lib/modules/RELEASE/modules.builtin) and,
    for modules that register no sysfs entry when built in, a feature path (for example
    C(/proc/sys/net/bridge) for C(br_netfilter)).
options:
  names:
    description: Kernel module names to make available.
    type: list
    elements: str
    required: true
  load:
    description: Load the modules the kernel ships but has not loaded. With C(false) only report.
    type: bool
    default: true
notes:
  - Supports check mode; in check mode nothing is loaded and C(changed) says what would be.
  - Inside a container C(modprobe) cannot load anything; such modules are reported missing.
author:
  - kubebin.cluster maintainers (@kubebin)
"""

EXAMPLES = r"""
- name: Make the ipvs modules available
  kubebin.cluster.kernel_modules:
    names: [br_netfilter, ip_vs, ip_vs_rr, nf_conntrack]
  register: kmods

- name: Show what this kernel lacks
  ansible.builtin.debug:
    var: kmods.missing
"""

RETURN = r"""
present:
  description: Modules already available before this run (loaded or built in).
  returned: always
  type: list
  elements: str
loaded:
  description: Modules this run loaded (or would load, in check mode).
  returned: always
  type: list
  elements: str
missing:
  description: Modules the kernel neither has built in nor can load.
  returned: always
  type: list
  elements: str
errors:
  description: Per missing module, what modprobe said (empty when it was not found at all).
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kubebin.cluster.plugins.module_utils.kmod import load


def main():
    module = AnsibleModule(
        argument_spec=dict(
            names=dict(type="list", elements="str", required=True),
            load=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**load(module, module.params["names"], module.params["load"]))


if __name__ == "__main__":
    main()
