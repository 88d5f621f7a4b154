# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Swap off, now and in fstab: shared by the swap_off and node_settings modules."""

from __future__ import annotations

import os
import re

SWAP_LINE = re.compile(r"^\s*[^#\s]\S*\s+\S+\s+swap\s")


def active_devices(path="/proc/swaps"):
    try:
        with open(path) as handle:
            lines = handle.read().splitlines()[1:]
    except FileNotFoundError:
        return []
    return [line.split()[0] for line in lines if line.strip()]


def off(module, fstab="/etc/fstab", marker="# swap off: kubebin.cluster.node_prep"):
    """swapoff -a and the fstab swap lines commented out: the swap_off module's result."""
    devices = active_devices()
    if devices and not module.check_mode:
        swapoff = module.get_bin_path("swapoff", required=True)
        rc, out, err = module.run_command([swapoff, "-a"])
        if rc != 0:
            module.fail_json(msg="swapoff -a failed: %s" % (err or out).strip(), devices=devices)

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
                after_lines.append("# %s  %s\n" % (line.rstrip("\n"), marker))
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
    return result
