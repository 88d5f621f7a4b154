#!/usr/bin/python
# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sysctls
short_description: Own one sysctl.d file and apply its values live, in one step
version_added: "0.1.0"
description:
  - Writes O(path) with exactly the given sysctls (sorted, one C(name = value) a line) and sets
    each live value in C(/proc/sys) that differs, in one round trip.
  - O(optional) sysctls are included only where the running kernel has them (their
    C(/proc/sys) file exists), for settings such as C(net.bridge.bridge-nf-call-iptables)
    (only once br_netfilter is loaded) or C(fs.may_detach_mounts) (RHEL/CentOS 7.4+ only).
  - Unlike a loop of M(ansible.posix.sysctl), one call per host whatever the number of values.
options:
  path:
    description: The sysctl.d file this module owns (rewritten whole).
    type: path
    required: true
  values:
    description: Sysctl name (dotted) to value; the kernel must have each of them.
    type: dict
    default: {}
  optional:
    description: Sysctl name to value, applied only where the kernel has the sysctl.
    type: dict
    default: {}
  apply:
    description: Also set live values (with V(false) only the file is written).
    type: bool
    default: true
notes:
  - Supports check mode and diff mode.
  - Values compare with whitespace normalised (C(1024 65000) equals C(1024  65000)).
author:
  - kubebin.cluster maintainers (@kubebin)
"""

EXAMPLES = r"""
- name: Kubernetes node sysctls
  kubebin.cluster.sysctls:
    path: /etc/sysctl.d/90-kubebin.conf
    values:
      net.ipv4.ip_forward: 1
    optional:
      net.bridge.bridge-nf-call-iptables: 1
      fs.may_detach_mounts: 1
"""

RETURN = r"""
applied:
  description: The sysctls in the file (values as strings).
  returned: always
  type: dict
skipped:
  description: Optional sysctls this kernel does not have.
  returned: always
  type: list
  elements: str
live_changed:
  description: Sysctls whose live value was (or, in check mode, would be) changed.
  returned: always
  type: list
  elements: str
file_changed:
  description: Whether the file was (or would be) rewritten.
  returned: always
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kubebin.cluster.plugins.module_utils.sysctl import apply


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            values=dict(type="dict", default={}),
            optional=dict(type="dict", default={}),
            apply=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    module.exit_json(
        **apply(module, params["path"], params["values"], params["optional"], params["apply"])
    )


if __name__ == "__main__":
    main()
