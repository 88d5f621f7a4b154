# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel module presence and loading, shared by the kernel_modules, node_settings and
host_facts modules."""

from __future__ import annotations

import os
import platform

# Modules that leave no /sys/module entry when built in, and the path their feature shows.
FEATURE_PATHS = {
    "br_netfilter": "/proc/sys/net/bridge/bridge-nf-call-iptables",
    "ip_vs": "/proc/net/ip_vs",
    "nf_conntrack": "/proc/sys/net/netfilter/nf_conntrack_max",
    "overlay": "/sys/module/overlay",
}


def norm(name):
    return name.replace("-", "_")


def builtin_modules(release, root="/"):
    """Names the kernel has built in, from modules.builtin (empty when the file is absent)."""
    path = os.path.join(root, "lib/modules/%s/modules.builtin" % release)
    names = set()
    try:
        with open(path) as handle:
            for line in handle:
                base = os.path.basename(line.strip())
                if base.endswith(".ko"):
                    names.add(norm(base[:-3]))
    except OSError:
        pass
    return names


def is_present(name, builtin, root="/"):
    """Whether the running kernel provides NAME now: loaded, built in, or its feature shows."""
    name = norm(name)
    if os.path.isdir(os.path.join(root, "sys/module", name)) or name in builtin:
        return True
    feature = FEATURE_PATHS.get(name)
    return bool(feature and os.path.exists(os.path.join(root, feature.lstrip("/"))))


def load(module, names, load_them=True):
    """Load what of NAMES the kernel has and does not run yet (modprobe); the kernel_modules
    module's result: present, loaded, missing (with errors)."""
    builtin = builtin_modules(platform.release())
    modprobe = module.get_bin_path("modprobe")
    present, loaded, missing, errors = [], [], [], {}

    for name in names:
        if is_present(name, builtin):
            present.append(name)
            continue
        if not load_them or modprobe is None:
            missing.append(name)
            errors[name] = "" if modprobe else "modprobe is not installed"
            continue
        # --dry-run resolves the module without loading it: the check-mode answer.
        rc, _out, err = module.run_command([modprobe, "--dry-run", name])
        if rc != 0:
            missing.append(name)
            errors[name] = err.strip()
            continue
        if not module.check_mode:
            rc, _out, err = module.run_command([modprobe, name])
            if rc != 0 or not is_present(name, builtin):
                missing.append(name)
                errors[name] = err.strip() or "modprobe returned %d" % rc
                continue
        loaded.append(name)

    return dict(
        changed=bool(loaded), present=present, loaded=loaded, missing=missing, errors=errors
    )
