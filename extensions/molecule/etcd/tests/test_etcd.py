"""Verify the 3-member etcd cluster over TLS, from every member, including a member failure."""

import json
import os
import time

import testinfra

MEMBERS = ["kb-etcd-1", "kb-etcd-2", "kb-etcd-3"]
CTL = "bash -lc 'source /etc/profile.d/etcdctl.sh && {}'"


def ctl(host, args, check=True):
    cmd = host.run(CTL.format(args))
    if check:
        assert cmd.rc == 0, cmd.stderr
    return cmd


def test_unit_is_hardened_and_running(host):
    unit = host.file("/etc/systemd/system/etcd.service").content_string
    for flag in (
        "--client-cert-auth=true",
        "--peer-client-cert-auth=true",
        "--enable-v2=true",
        "--trusted-ca-file=/etc/etcd/pki/ca.crt",
    ):
        assert flag in unit
    assert "http://" not in unit  # TLS on every listener
    assert "Restart=always" in unit
    assert host.service("etcd").is_running
    assert host.service("etcd").is_enabled
    assert host.file("/var/lib/etcd").mode == 0o700


def test_cluster_is_healthy_with_three_members(host):
    health = ctl(host, "etcdctl endpoint health --cluster")
    assert health.stdout.count("is healthy") + health.stderr.count("is healthy") == 3
    members = json.loads(ctl(host, "etcdctl member list -w json").stdout)["members"]
    assert sorted(m["name"] for m in members) == MEMBERS
    for m in members:
        assert all(u.startswith("https://") for u in m["peerURLs"] + m["clientURLs"])


def test_a_client_without_a_certificate_is_refused(host):
    no_cert = host.run(
        "ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 "
        "--cacert=/etc/etcd/pki/ca.crt --dial-timeout=3s --command-timeout=5s get /x"
    )
    assert no_cert.rc != 0
    plain = host.run(
        "ETCDCTL_API=3 etcdctl --endpoints=http://127.0.0.1:2379 --dial-timeout=3s get /x"
    )
    assert plain.rc != 0


def test_data_written_on_one_member_is_read_on_another(host):
    me = host.backend.get_hostname()
    ctl(host, f"etcdctl put /kubebin-test/from-{me} hello-{me}")
    # read it through another member's endpoint
    other_ip = {"kb-etcd-1": "10.250.1.12", "kb-etcd-2": "10.250.1.13", "kb-etcd-3": "10.250.1.11"}[
        me
    ]
    key = f"/kubebin-test/from-{me}"
    got = ctl(host, f"etcdctl --endpoints=https://{other_ip}:2379 get --print-value-only {key}")
    assert got.stdout.strip() == f"hello-{me}"


def member(name):
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={inventory}")


def test_losing_one_member_keeps_the_cluster_and_it_catches_up():
    m1, m2, m3 = (member(name) for name in MEMBERS)
    assert m3.run("systemctl stop etcd").rc == 0
    try:
        assert not m3.service("etcd").is_running
        # Quorum (2 of 3) holds: writes and linearizable reads still succeed.
        ctl(m1, "etcdctl put /kubebin-test/while-down written-with-one-member-down")
        got = ctl(m2, "etcdctl get --print-value-only /kubebin-test/while-down")
        assert got.stdout.strip() == "written-with-one-member-down"
    finally:
        assert m3.run("systemctl start etcd").rc == 0
    # The member rejoins and catches up: a serializable read answered from its own data.
    for _attempt in range(30):
        local = m3.run(
            CTL.format(
                "etcdctl --endpoints=https://127.0.0.1:2379 get --consistency=s "
                "--print-value-only /kubebin-test/while-down"
            )
        )
        if local.rc == 0 and local.stdout.strip() == "written-with-one-member-down":
            break
        time.sleep(1)
    else:
        raise AssertionError(f"kb-etcd-3 did not catch up: {local.stdout} {local.stderr}")
    health = ctl(m1, "etcdctl endpoint health --cluster")
    assert (health.stdout + health.stderr).count("is healthy") == 3
