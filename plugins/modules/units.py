#!/usr/bin/python
# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: units
short_description: Keep systemd units enabled and running, restarting the changed ones
version_added: "0.1.0"
description:
  - For each of O(names) - enables it, starts it when it is not active, and restarts it when it
    is listed in O(restart) and already active (a unit started by this run needs no restart).
  - One module run for all the units of a component, where M(ansible.builtin.service_facts)
    plus a loop of M(ansible.builtin.systemd_service) costs a run per unit and more.
  - A unit that fails to start fails the task with the end of its journal.
  - With O(state=stopped) it stops the units that run and disables the enabled ones instead (a node
    taken out of the cluster); units not installed are no change.
  - Supports check mode (reports what it would do; units not installed yet count as to be started).
options:
  state:
    description: Keep the units running and enabled, or stopped and disabled.
    type: str
    choices: [started, stopped]
    default: started
  names:
    description: The units (C(.service) may be left out).
    type: list
    elements: str
    required: true
  restart:
    description: Units to restart when they are already active (their files or binaries changed).
    type: list
    elements: str
    default: []
  daemon_reload:
    description: Run C(systemctl daemon-reload) first (a unit file changed).
    type: bool
    default: false
  enabled:
    description: Enable the units (start at boot).
    type: bool
    default: true
  requires:
    description:
      - Files that must exist before a unit is started or restarted (e.g. an C(EnvironmentFile)
        another service writes); a missing one fails the task naming it, and nothing is started.
        Not checked for units that keep running, nor in check mode.
    type: list
    elements: path
    default: []
  watch:
    description:
      - Unit name to files it reads (certificates, keys). A running unit also restarts when one
        of them was modified after it last started (its C(ActiveEnterTimestampMonotonic)), so a
        certificate replaced by a run that failed before the restart is picked up by the next
        run. A missing file is ignored.
    type: dict
    default: {}
author:
  - kubebin.cluster maintainers (@kubebin)
"""

EXAMPLES = r"""
- name: Start and enable the control plane, restarting what changed
  kubebin.cluster.units:
    names: [kube-apiserver, kube-controller-manager, kube-scheduler]
    restart: [kube-apiserver]
    daemon_reload: true
"""

RETURN = r"""
started:
  description: Units started (or that would be).
  returned: always
  type: list
  elements: str
stopped:
  description: Units stopped (or that would be), with O(state=stopped).
  returned: always
  type: list
  elements: str
disabled:
  description: Units disabled (or that would be), with O(state=stopped).
  returned: always
  type: list
  elements: str
restarted:
  description: Units restarted (or that would be).
  returned: always
  type: list
  elements: str
enabled:
  description: Units enabled (or that would be).
  returned: always
  type: list
  elements: str
states:
  description: Each unit's C(ActiveState) before this run.
  returned: always
  type: dict
  sample: {kube-apiserver.service: active}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kubebin.cluster.plugins.module_utils.units import ensure


def main():
    module = AnsibleModule(
        argument_spec=dict(
            names=dict(type="list", elements="str", required=True),
            restart=dict(type="list", elements="str", default=[]),
            daemon_reload=dict(type="bool", default=False),
            enabled=dict(type="bool", default=True),
            requires=dict(type="list", elements="path", default=[]),
            state=dict(type="str", choices=["started", "stopped"], default="started"),
            watch=dict(type="dict", default={}),
        ),
        supports_check_mode=True,
    )
    result = ensure(module, **module.params)
    result.setdefault("stopped", [])
    result.setdefault("disabled", [])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
