"""A catalogue on a real Dask cluster (distributed.LocalCluster, two worker processes) over fsspec paths.

The cluster's files must be the command line's, byte for byte and name for
name: both run the same function (pixelpress.catalogue.core.outcome) and
name files alike.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_run import cli, opened, photos, tree

distributed = pytest.importorskip("distributed", reason='the `scale` extra: pip install "pixelpress[scale]"')

from pixelpress.catalogue.dask import catalogue_bag  # noqa: E402 - after the skip: needs dask
from pixelpress.errors import InvalidOption  # noqa: E402

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        yield c


def test_a_hundred_files_on_two_workers_equal_the_command_lines(client, tmp_path):
    photos(tmp_path / "in", 100, size=(240, 180))
    (tmp_path / "in" / "photo050.jpg").write_bytes(b"\xff\xd8\xff\xe0 cut short")
    lines = catalogue_bag("convert", f"file://{tmp_path}/in/*.jpg", f"file://{tmp_path}/cluster",
                          {"format": "webp", "quality": 70}).compute()
    workers = {w["id"] for w in client.scheduler_info()["workers"].values()}
    assert len(workers) == 2
    run = cli("convert", "in", "-o", "cli", "--set", "format=webp", "--set", "quality=70", "--json", cwd=tmp_path)
    assert run.returncode == 1
    assert tree(tmp_path / "cluster") == tree(tmp_path / "cli") and len(tree(tmp_path / "cli")) == 99
    assert len(lines) == 100 and [Path(line["source"]).name for line in lines] == [f"photo{i:03d}.jpg" for i in range(100)]
    failed = [line for line in lines if not line["ok"]]
    assert [(Path(f["source"]).name, f["error"]["code"]) for f in failed] == [("photo050.jpg", "corrupt_image")]
    records = {Path(json.loads(r)["input"]).name: json.loads(r) for r in run.stdout.splitlines()}
    line = next(li for li in lines if li["source"].endswith("photo007.jpg"))
    assert line["meta"]["width"] == records["photo007.jpg"]["outputs"][0]["meta"]["width"] == 240
    assert line["outputs"][0]["bytes"] == records["photo007.jpg"]["outputs"][0]["bytes"]
    assert opened(tmp_path / "cluster" / "photo007.webp").format == "WEBP"


def test_an_op_with_several_files_and_a_refused_option(client, tmp_path):
    photos(tmp_path / "in", 3, size=(400, 300))
    lines = catalogue_bag("web_sizes", [str(p) for p in sorted((tmp_path / "in").iterdir())], str(tmp_path / "cluster"),
                          {"widths": [160, 320], "avif": False}).compute()
    run = cli("web_sizes", "in", "-o", "cli", "--set", "widths=160,320", "--set", "avif=false", cwd=tmp_path)
    assert run.returncode == 0 and all(line["ok"] for line in lines), run.stderr
    assert tree(tmp_path / "cluster") == tree(tmp_path / "cli")
    assert 'srcset="photo001-160.webp 160w, photo001-320.webp 320w"' in (tmp_path / "cluster" / "photo001.html").read_text()
    with pytest.raises(InvalidOption, match="quality"):
        catalogue_bag("convert", str(tmp_path / "in" / "*.jpg"), str(tmp_path / "x"), {"quality": 101})
