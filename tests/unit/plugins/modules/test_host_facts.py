"""host_facts: the running kubelet's and kube-proxy's flags and the swap fstab turns on, read
from a /proc and an fstab laid out in tmp_path as the kernel and the distribution write them."""

from ansible_collections.kubebin.cluster.plugins.modules import host_facts


def proc_entry(root, pid, comm, argv):
    d = root / str(pid)
    d.mkdir(parents=True)
    (d / "comm").write_text(comm + "\n")
    (d / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")


def test_running_processes_give_their_flags_and_absent_ones_none(tmp_path):
    proc = tmp_path / "proc"
    proc_entry(proc, 1, "systemd", ["/sbin/init"])
    proc_entry(proc, 812, "kubelet", ["/usr/local/bin/kubelet", "--fail-swap-on=false", "--v=2"])
    (proc / "self").mkdir()
    got = host_facts.process_args(["kubelet", "kube-proxy"], proc=str(proc))
    assert got == {"kubelet": ["--fail-swap-on=false", "--v=2"], "kube-proxy": []}


def test_fstab_swap_lines_that_boot_turns_on(tmp_path):
    fstab = tmp_path / "fstab"
    fstab.write_text(
        "# /etc/fstab\n"
        "/dev/mapper/centos-root /    xfs  defaults 0 0\n"
        "/dev/mapper/centos-swap swap swap defaults 0 0\n"
        "#/swapfile none swap sw 0 0\n"
        "/swap2 none swap sw 0 0 # second\n"
    )
    assert host_facts.fstab_swap(str(fstab)) == ["/dev/mapper/centos-swap", "/swap2"]
    assert host_facts.fstab_swap(str(tmp_path / "missing")) is None
