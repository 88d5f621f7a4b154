# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keeping systemd units running (or stopped): shared by the units module and write_files'
``units`` option (write a component's files and start or restart it in one module run)."""

from __future__ import annotations

import os
import time

ENABLED = ("enabled", "enabled-runtime", "static", "alias", "indirect", "generated", "linked")


def unit_name(name):
    return name if "." in name else name + ".service"


def show(module, systemctl, units):
    """ActiveState, UnitFileState and LoadState of each unit, in one systemctl call."""
    rc, out, err = module.run_command(
        [
            systemctl,
            "show",
            "--property=Id,ActiveState,UnitFileState,LoadState,ActiveEnterTimestampMonotonic",
            "--",
            *units,
        ]
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


def older_than(states, watch, mtimes, *, wall_minus_mono):
    """Units of WATCH ({unit: [paths]}) that run and last (re)started before one of their
    files changed: a file's modification time (MTIMES {path: wall-clock seconds}, None for a
    missing file) later than the unit's ActiveEnterTimestampMonotonic (microseconds since boot)
    on the same clock. WALL_MINUS_MONO: wall-clock time less monotonic time, now."""
    stale = []
    for unit, paths in (watch or {}).items():
        props = states.get(unit) or {}
        if props.get("ActiveState") not in ("active", "reloading"):
            continue
        try:
            entered = int(props.get("ActiveEnterTimestampMonotonic") or 0) / 1e6
        except ValueError:
            continue
        changed = [mtimes.get(p) for p in paths or []]
        newest = max((m for m in changed if m is not None), default=None)
        if entered and newest is not None and newest - wall_minus_mono > entered:
            stale.append(unit)
    return stale


def _mtimes(paths):
    out = {}
    for path in paths:
        try:
            out[path] = os.stat(path).st_mtime
        except OSError:
            out[path] = None
    return out


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
    """Stop what runs and disable what is enabled; the module's result."""
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
    return dict(
        changed=bool(stopped or disabled),
        stopped=stopped,
        disabled=disabled,
        started=[],
        restarted=[],
        enabled=[],
        states=dict((u, states[u].get("ActiveState", "")) for u in units),
    )


def start(module, systemctl, journalctl, units, states, *, restart, enabled=True):
    """Enable, start what does not run and restart what changed; (started, restarted, enabled)."""
    want_enabled = enabled
    started, restarted, enabled = [], [], []
    for unit in units:
        props = states[unit]
        if props.get("LoadState") == "not-found":
            if module.check_mode:
                started.append(unit)
                enabled.extend([unit] if want_enabled else [])
                continue
            module.fail_json(msg="%s is not installed (no unit file)" % unit, unit=unit)
        if want_enabled and props.get("UnitFileState") not in ENABLED:
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


def ensure(
    module,
    names,
    *,
    restart=(),
    daemon_reload=False,
    enabled=True,
    requires=(),
    state="started",
    watch=None,
):
    """The units module's work on NAMES; returns its result (fails the module on error).

    WATCH ({name: [paths]}): a running unit also restarts when one of its paths (its
    certificates, keys) changed after it last started, whichever run changed them."""
    systemctl = module.get_bin_path("systemctl", required=True)
    journalctl = module.get_bin_path("journalctl")
    units = [unit_name(n) for n in names]
    restart = set(unit_name(n) for n in restart)
    watch = dict((unit_name(n), list(p or [])) for n, p in (watch or {}).items())
    unknown = sorted((restart | set(watch)) - set(units))
    if unknown:
        module.fail_json(
            msg="restart or watch names %s, which is not in names" % ", ".join(unknown)
        )

    if daemon_reload and not module.check_mode:
        run(module, [systemctl, "daemon-reload"], "", None)
    states = show(module, systemctl, units)
    if state == "stopped":
        return stop(module, systemctl, journalctl, units, states)
    if watch:
        mtimes = _mtimes(sorted({p for paths in watch.values() for p in paths}))
        restart |= set(
            older_than(states, watch, mtimes, wall_minus_mono=time.time() - time.monotonic())
        )

    to_start = [
        u
        for u in units
        if states[u].get("LoadState") != "not-found"
        and (states[u].get("ActiveState") not in ("active", "reloading") or u in restart)
    ]
    missing = [path for path in requires or [] if not os.path.exists(path)]
    if to_start and missing and not module.check_mode:
        module.fail_json(
            msg="%s cannot be started: %s missing" % (", ".join(to_start), ", ".join(missing)),
            missing=missing,
        )

    started, restarted, enabled_now = start(
        module, systemctl, journalctl, units, states, restart=restart, enabled=enabled
    )
    return dict(
        changed=bool(started or restarted or enabled_now),
        started=started,
        restarted=restarted,
        enabled=enabled_now,
        states=dict((u, states[u].get("ActiveState", "")) for u in units),
    )
