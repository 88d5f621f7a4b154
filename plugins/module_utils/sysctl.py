# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One sysctl.d file and the live values, shared by the sysctls and node_settings modules."""

from __future__ import annotations

import os


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


def apply(module, path, values, optional=None, apply_live=True):
    """The sysctls module's work and result (fails the module on a sysctl the kernel lacks)."""
    wanted = {name: norm(value) for name, value in values.items()}
    skipped = []
    for name, value in (optional or {}).items():
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
    if apply_live:
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
    return result
