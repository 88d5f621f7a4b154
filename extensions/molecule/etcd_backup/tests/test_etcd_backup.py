"""After backup, data loss and restore, the v3 and the v2 keys are back."""

import glob
import json
import os

V3 = "bash -lc 'source /etc/profile.d/etcdctl.sh && {}'"
V2 = "bash -lc 'source /etc/profile.d/etcdctl.sh && ETCDCTL_API=2 etcdctl {}'"


def test_v3_key_is_back(host):
    out = host.run(V3.format("etcdctl get --print-value-only /kubebin-test/v3-key"))
    assert out.rc == 0, out.stderr
    assert out.stdout.strip() == "survives-restore"


def test_v2_key_is_back_without_ttl(host):
    out = host.run(V2.format("-o extended get /coreos.com/network/subnets/172.20.7.0-24"))
    assert out.rc == 0, out.stderr
    assert "TTL: 0" in out.stdout
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {
        "PublicIP": "10.250.3.77",
        "BackendType": "host-gw",
    }


def test_old_data_was_kept_aside(host):
    assert host.run("ls -d /var/lib/etcd.before-restore-*").rc == 0


def test_backup_on_the_controller():
    backups = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "backups")
    latest = os.path.realpath(os.path.join(backups, "latest"))
    assert sorted(os.listdir(latest)) == ["manifest.json", "snapshot.db", "v2-keys.json"]
    assert os.path.getsize(os.path.join(latest, "snapshot.db")) > 0
    assert len(glob.glob(os.path.join(backups, "*T*Z"))) >= 1
    with open(os.path.join(latest, "v2-keys.json"), encoding="utf-8") as handle:
        keys = {k["key"] for k in json.load(handle)}
    assert "/coreos.com/network/subnets/172.20.7.0-24" in keys
