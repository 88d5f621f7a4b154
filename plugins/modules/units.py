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

import os

from ansible.module_utils.basic import AnsibleModule

ENABLED = ("enabled", "enabled-runtime", "static", "alias", "indirect", "generated", "linked")


def unit_name(name):
    return name if "." in name else name + ".service"


def show(module, systemctl, units):
    """ActiveState, UnitFileState and LoadState of each unit, in one systemctl call."""
    rc, out, err = module.run_command(
        [systemctl, "show", "--property=Id,ActiveState,UnitFileState,LoadState", "--", *units]
    )
    if rc != 0:
        module.fail_json(msg="systemctl show failed: %s" % (err or out).strip())
    blocks = [b for b in out.strip().split("\n\n") if b.strip()]
    if len(blocks) != len(units):
        module.fail_json(
            msg="systemctl show returned %d entries for %d units" % (len(blocks), len(units))
        )
    result = {}
    for unit, block in zip(units, blocks):
        props = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        result[unit] = props
    return result


def run(module, argv, unit, journalctl):
    rc, out, err = module.run_command(argv)
    if rc != 0:
        journal = ""
        if journalctl:
            journal = module.run_command([journalctl, "-u", unit, "-n", "20", "--no-pager"])[1]
        module.fail_json(
            msg="%s failed: %s" % (" ".join(argv[1:]), (err or out).strip()),
            unit=unit,
            journal=journal.splitlines(),
        )


def stop(module, systemctl, journalctl, units, states):
    """Stop what runs and disable what is enabled; exit."""
    stopped, disabled = [], []
    for unit in units:
        props = states[unit]
        if props.get("LoadState") == "not-found":
            continue
        if props.get("ActiveState") in ("active", "reloading", "activating"):
            stopped.append(unit)
            if not module.check_mode:
                run(module, [systemctl, "stop", unit], unit, journalctl)
        if props.get("UnitFileState") in ("enabled", "enabled-runtime"):
            disabled.append(unit)
            if not module.check_mode:
                run(module, [systemctl, "disable", unit], unit, journalctl)
    module.exit_json(
        changed=bool(stopped or disabled),
        stopped=stopped,
        disabled=disabled,
        started=[],
        restarted=[],
        enabled=[],
        states=dict((u, states[u].get("ActiveState", "")) for u in units),
    )


def start(module, systemctl, journalctl, units, states, *, restart):
    """Enable, start what does not run and restart what changed; (started, restarted, enabled)."""
    started, restarted, enabled = [], [], []
    for unit in units:
        props = states[unit]
        if props.get("LoadState") == "not-found":
            if module.check_mode:
                started.append(unit)
                enabled.extend([unit] if module.params["enabled"] else [])
                continue
            module.fail_json(msg="%s is not installed (no unit file)" % unit, unit=unit)
        if module.params["enabled"] and props.get("UnitFileState") not in ENABLED:
            enabled.append(unit)
            if not module.check_mode:
                run(module, [systemctl, "enable", unit], unit, journalctl)
        active = props.get("ActiveState") in ("active", "reloading")
        if active and unit in restart:
            restarted.append(unit)
            if not module.check_mode:
                run(module, [systemctl, "restart", unit], unit, journalctl)
        elif not active:
            started.append(unit)
            if not module.check_mode:
                run(module, [systemctl, "start", unit], unit, journalctl)

    return started, restarted, enabled


def main():
    module = AnsibleModule(
        argument_spec=dict(
            names=dict(type="list", elements="str", required=True),
            restart=dict(type="list", elements="str", default=[]),
            daemon_reload=dict(type="bool", default=False),
            enabled=dict(type="bool", default=True),
            requires=dict(type="list", elements="path", default=[]),
            state=dict(type="str", choices=["started", "stopped"], default="started"),
        ),
        supports_check_mode=True,
    )
    systemctl = module.get_bin_path("systemctl", required=True)
    journalctl = module.get_bin_path("journalctl")
    units = [unit_name(n) for n in module.params["names"]]
    restart = set(unit_name(n) for n in module.params["restart"])
    unknown = sorted(restart - set(units))
    if unknown:
        module.fail_json(msg="restart names %s, which is not in names" % ", ".join(unknown))

    if module.params["daemon_reload"] and not module.check_mode:
        run(module, [systemctl, "daemon-reload"], "", None)
    states = show(module, systemctl, units)
    if module.params["state"] == "stopped":
        stop(module, systemctl, journalctl, units, states)

    to_start = [
        u
        for u in units
        if states[u].get("LoadState") != "not-found"
        and (states[u].get("ActiveState") not in ("active", "reloading") or u in restart)
    ]
    missing = [path for path in module.params["requires"] if not os.path.exists(path)]
    if to_start and missing and not module.check_mode:
        module.fail_json(
            msg="%s cannot be started: %s missing" % (", ".join(to_start), ", ".join(missing)),
            missing=missing,
        )

    started, restarted, enabled = start(
        module, systemctl, journalctl, units, states, restart=restart
    )
    module.exit_json(
        changed=bool(started or restarted or enabled),
        started=started,
        restarted=restarted,
        enabled=enabled,
        states=dict((u, states[u].get("ActiveState", "")) for u in units),
    )


if __name__ == "__main__":
    main()
