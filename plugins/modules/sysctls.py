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

import os

from ansible.module_utils.basic import AnsibleModule


def proc_path(name):
    return "/proc/sys/" + name.replace(".", "/")


def norm(value):
    if isinstance(value, bool):
        value = int(value)
    return " ".join(str(value).split())


def render(values):
    lines = ["# Managed by Ansible (kubebin.cluster.sysctls); local changes are overwritten."]
    lines.extend("%s = %s" % (name, values[name]) for name in sorted(values))
    return "\n".join(lines) + "\n"


def write_file(module, path, content):
    """Rewrite PATH with CONTENT unless it already has it (or in check mode); the old text."""
    try:
        with open(path) as handle:
            before = handle.read()
    except OSError:
        before = ""
    if before != content and not module.check_mode:
        directory = os.path.dirname(path)
        if directory and not os.path.isdir(directory):
            os.makedirs(directory, 0o755)
        tmp = path + ".kubebin-tmp"
        with open(tmp, "w") as handle:
            handle.write(content)
        os.chmod(tmp, 0o644)
        module.atomic_move(tmp, path)
    return before


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
    path = module.params["path"]
    wanted = {name: norm(value) for name, value in module.params["values"].items()}
    skipped = []
    for name, value in module.params["optional"].items():
        if os.path.exists(proc_path(name)):
            wanted[name] = norm(value)
        else:
            skipped.append(name)
    missing = [name for name in wanted if not os.path.exists(proc_path(name))]
    if missing:
        module.fail_json(
            msg="this kernel has no sysctl %s (no %s); move it to 'optional' if it may be absent"
            % (", ".join(sorted(missing)), ", ".join(proc_path(n) for n in sorted(missing)))
        )

    content = render(wanted)
    before = write_file(module, path, content)
    file_changed = before != content

    live_changed = []
    if module.params["apply"]:
        for name in sorted(wanted):
            with open(proc_path(name)) as handle:
                current = norm(handle.read())
            if current == wanted[name]:
                continue
            live_changed.append(name)
            if module.check_mode:
                continue
            try:
                with open(proc_path(name), "w") as handle:
                    handle.write(wanted[name])
            except OSError as exc:
                module.fail_json(
                    msg="could not set %s to %s: %s" % (name, wanted[name], exc),
                    live_changed=live_changed,
                )

    result = dict(
        changed=file_changed or bool(live_changed),
        applied=wanted,
        skipped=sorted(skipped),
        live_changed=live_changed,
        file_changed=file_changed,
    )
    if module._diff:
        result["diff"] = dict(before=before, after=content, before_header=path, after_header=path)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
