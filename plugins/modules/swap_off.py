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

import os
import re

from ansible.module_utils.basic import AnsibleModule

SWAP_LINE = re.compile(r"^\s*[^#\s]\S*\s+\S+\s+swap\s")


def active_devices(path="/proc/swaps"):
    try:
        with open(path) as handle:
            lines = handle.read().splitlines()[1:]
    except FileNotFoundError:
        return []
    return [line.split()[0] for line in lines if line.strip()]


def main():
    module = AnsibleModule(
        argument_spec=dict(
            fstab=dict(type="path", default="/etc/fstab"),
            marker=dict(type="str", default="# swap off: kubebin.cluster.node_prep"),
        ),
        supports_check_mode=True,
    )
    devices = active_devices()
    if devices and not module.check_mode:
        swapoff = module.get_bin_path("swapoff", required=True)
        rc, out, err = module.run_command([swapoff, "-a"])
        if rc != 0:
            module.fail_json(msg="swapoff -a failed: %s" % (err or out).strip(), devices=devices)

    fstab = module.params["fstab"]
    commented = []
    diff = {}
    if os.path.isfile(fstab):
        with open(fstab) as handle:
            before = handle.read()
        lines = before.splitlines(True)
        after_lines = []
        for line in lines:
            if SWAP_LINE.match(line):
                commented.append(line.rstrip("\n"))
                after_lines.append("# %s  %s\n" % (line.rstrip("\n"), module.params["marker"]))
            else:
                after_lines.append(line)
        if commented:
            after = "".join(after_lines)
            diff = dict(before_header=fstab, after_header=fstab, before=before, after=after)
            if not module.check_mode:
                tmp = fstab + ".kubebin-tmp"
                with open(tmp, "w") as handle:
                    handle.write(after)
                info = os.stat(fstab)
                os.chmod(tmp, info.st_mode & 0o7777)
                os.chown(tmp, info.st_uid, info.st_gid)
                os.replace(tmp, fstab)

    result = dict(changed=bool(devices or commented), devices=devices, fstab_lines=commented)
    if module._diff and diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
