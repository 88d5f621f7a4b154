"""module_utils.units.older_than: which running units started before a file they read changed."""

from ansible_collections.kubebin.cluster.plugins.module_utils.units import older_than

# Wall clock minus monotonic clock: the machine booted at wall time 1_000_000 s.
BOOT = 1_000_000.0


def state(active="active", entered_s=500.0):
    return {"ActiveState": active, "ActiveEnterTimestampMonotonic": str(int(entered_s * 1e6))}


def test_a_file_changed_after_the_start_restarts_the_unit():
    states = {"kube-apiserver.service": state(entered_s=500.0)}
    watch = {"kube-apiserver.service": ["/pki/apiserver.crt", "/pki/ca.crt"]}
    mtimes = {"/pki/apiserver.crt": BOOT + 400.0, "/pki/ca.crt": BOOT + 600.0}
    assert older_than(states, watch, mtimes, wall_minus_mono=BOOT) == ["kube-apiserver.service"]


def test_files_older_than_the_start_restart_nothing():
    states = {"kubelet.service": state(entered_s=500.0)}
    watch = {"kubelet.service": ["/pki/kubelet.crt"]}
    assert older_than(states, watch, {"/pki/kubelet.crt": BOOT + 499.0}, wall_minus_mono=BOOT) == []


def test_stopped_units_missing_files_and_unknown_times_are_left_alone():
    states = {
        "a.service": state(active="inactive"),
        "b.service": state(),
        "c.service": {"ActiveState": "active", "ActiveEnterTimestampMonotonic": "0"},
        "d.service": {"ActiveState": "active", "ActiveEnterTimestampMonotonic": "n/a"},
    }
    later = BOOT + 900.0
    watch = {u: ["/f"] for u in states}
    watch["b.service"] = ["/missing"]
    mtimes = {"/f": later, "/missing": None}
    assert older_than(states, watch, mtimes, wall_minus_mono=BOOT) == []
