"""Bad render requests stop in the controller-side play, naming the variable; no host is
contacted and nothing is written."""

import pytest

from ..playbook_runner import ROOT, assert_stopped_on_controller, run_playbook
from .conftest import INVENTORY, PLAYBOOK, no_contact_args


@pytest.mark.parametrize(
    ("extra", "needles"),
    [
        pytest.param(
            ["-e", "cluster_kube_version=1.12.0"],
            ["cluster_kube_version", "'1.12.0'", "version tables"],
            id="version-without-table",
        ),
        pytest.param(
            ["-e", "cluster_kube_version=banana"],
            ["cluster_kube_version", "'banana'"],
            id="version-not-a-version",
        ),
    ],
)
def test_bad_version(tmp_path, ssh_tripwire, extra, needles):
    script, log = ssh_tripwire
    render_dir = tmp_path / "render"
    rc, out = run_playbook(
        PLAYBOOK, INVENTORY, "-e", f"render_dir={render_dir}", *extra, *no_contact_args(script)
    )
    # The failure message is wrapped over lines by the yaml result format: unwrap it.
    assert_stopped_on_controller(rc, " ".join(out.replace("''", "'").split()), *needles)
    assert not render_dir.exists()
    assert not log.exists()


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param([], id="render_dir-missing"),
        pytest.param(["-e", "render_dir=relative"], id="render_dir-relative"),
    ],
)
def test_bad_render_dir(ssh_tripwire, extra):
    script, log = ssh_tripwire
    rc, out = run_playbook(PLAYBOOK, INVENTORY, *extra, *no_contact_args(script))
    assert_stopped_on_controller(rc, out, "render_dir", "absolute")
    assert not (ROOT / "relative").exists()
    assert not log.exists()
