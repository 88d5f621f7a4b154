# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel module presence, shared by the kernel_modules and host_facts modules."""

from __future__ import annotations

import os

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
