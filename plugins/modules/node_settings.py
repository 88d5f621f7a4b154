#!/usr/bin/python
# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: node_settings
short_description: A node's kernel settings in one step - modules, sysctls, swap, and their record
version_added: "0.3.0"
description:
  - Does, in one module run, what M(kubebin.cluster.kernel_modules),
    M(kubebin.cluster.sysctls) and M(kubebin.cluster.swap_off) do (the same code,
    C(plugins/module_utils/)), in that order - so optional sysctls that a module provides (the
    bridge-nf-call ones with C(br_netfilter)) are there when the sysctls are applied - then
    writes the modules-load file for boot and a JSON record of what the host has and lacks
    (an Ansible local fact), each only when it differs.
  - Why a module - the role C(kubebin.cluster.node_prep) ran the three modules and a file write
    as four module runs on every host and every run; one run saves about 1.5 s of a second
    C(site.yml) run on the lab (docs/design.md section 8).
  - Supports check mode (each part reports what it would change).
options:
  kernel_modules:
    description: Kernel modules to load where the kernel has them (missing ones are reported).
    type: list
    elements: str
    default: []
  modules_file:
    description: A modules-load.d file listing O(kernel_modules), so they load at boot.
    type: path
  sysctl_path:
    description: The sysctl.d file that holds O(sysctls) (see M(kubebin.cluster.sysctls)).
    type: path
    required: true
  sysctls:
    description: Sysctls to persist and apply; the kernel must have each.
    type: dict
    default: {}
  optional_sysctls:
    description: Sysctls persisted and applied only where the kernel has them.
    type: dict
    default: {}
  swap_off:
    description: Turn swap off now and comment out fstab's swap lines (M(kubebin.cluster.swap_off)).
    type: bool
    default: true
  fstab:
    description: The fstab whose swap lines are commented out.
    type: path
    default: /etc/fstab
  record:
    description:
      - A JSON file (an Ansible local fact under C(/etc/ansible/facts.d)) recording C(kernel),
        C(kernel_modules), C(missing_kernel_modules), C(sysctls) (those applied) and a boolean
        for each of O(record_flags).
    type: path
  record_flags:
    description: Flag name -> sysctl; the flag is V(true) in the record when the sysctl was applied.
    type: dict
    default: {}
author:
  - kubebin.cluster maintainers (@kubebin)
"""

EXAMPLES = r"""
- name: Kernel modules, sysctls, swap and their record
  kubebin.cluster.node_settings:
    kernel_modules: [br_netfilter, ip_vs]
    modules_file: /etc/modules-load.d/kubebin.conf
    sysctl_path: /etc/sysctl.d/90-kubebin.conf
    sysctls: {net.ipv4.ip_forward: 1}
    optional_sysctls: {net.bridge.bridge-nf-call-iptables: 1}
    record: /etc/ansible/facts.d/kubebin_node_prep.fact
    record_flags: {bridge_sysctls: net.bridge.bridge-nf-call-iptables}
"""

RETURN = r"""
kernel_modules:
  description: What M(kubebin.cluster.kernel_modules) returns (present, loaded, missing, errors).
  returned: always
  type: dict
missing:
  description: The kernel modules this kernel lacks.
  returned: always
  type: list
  elements: str
sysctls:
  description: What M(kubebin.cluster.sysctls) returns (applied, skipped, live_changed, ...).
  returned: always
  type: dict
swap:
  description: What M(kubebin.cluster.swap_off) returns (devices, fstab_lines), with O(swap_off).
  returned: always
  type: dict
written:
  description: The files written (O(modules_file), O(record)) or that would be.
  returned: always
  type: list
  elements: str
"""

import json
import platform

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kubebin.cluster.plugins.module_utils import kmod, swap, sysctl
from ansible_collections.kubebin.cluster.plugins.module_utils.files import (
    FilesError,
    write_tree,
)

MODULES_HEADER = (
    "# Managed by Ansible (kubebin.cluster.node_settings); local changes are overwritten.\n"
    "# Kernel modules for Kubernetes nodes, loaded at boot.\n"
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            kernel_modules=dict(type="list", elements="str", default=[]),
            modules_file=dict(type="path"),
            sysctl_path=dict(type="path", required=True),
            sysctls=dict(type="dict", default={}),
            optional_sysctls=dict(type="dict", default={}),
            swap_off=dict(type="bool", default=True),
            fstab=dict(type="path", default="/etc/fstab"),
            record=dict(type="path"),
            record_flags=dict(type="dict", default={}),
        ),
        supports_check_mode=True,
    )
    params = module.params
    names = params["kernel_modules"]
    modules = kmod.load(module, names)
    sysctls = sysctl.apply(
        module, params["sysctl_path"], params["sysctls"], params["optional_sysctls"]
    )
    swapped = swap.off(module, params["fstab"]) if params["swap_off"] else {}

    files = []
    if params["modules_file"]:
        files.append(
            {
                "path": params["modules_file"],
                "content": MODULES_HEADER + "".join(name + "\n" for name in names),
                "mode": "0644",
            }
        )
    if params["record"]:
        record = {
            "kernel": platform.release(),
            "kernel_modules": sorted(names),
            "missing_kernel_modules": sorted(modules["missing"]),
            "sysctls": sysctls["applied"],
        }
        for flag, name in params["record_flags"].items():
            record[flag] = name in sysctls["applied"]
        files.append(
            {
                "path": params["record"],
                "content": json.dumps(record, indent=4, sort_keys=True) + "\n",
                "mode": "0644",
            }
        )
    try:
        written = write_tree("/", files, check_mode=module.check_mode)["written"]
    except FilesError as exc:
        module.fail_json(msg=str(exc))

    module.exit_json(
        changed=bool(modules["changed"] or sysctls["changed"] or swapped.get("changed") or written),
        kernel_modules=modules,
        missing=modules["missing"],
        sysctls=sysctls,
        swap=swapped,
        written=["/" + path for path in written],
    )


if __name__ == "__main__":
    main()
