"""The command line over a catalogue: -j processes, the memory bound, the manifest and resuming, pipes.

Run as a user runs it (a subprocess over real files); what is checked is the
files written, byte for byte against a run of one process, and the lines of
the manifest.
"""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest
import samples
from cli_run import cli, command, env, manifest, opened, photos, tree

# The memory a test says the machine has: `pre` runs in the command line's process before main().
FAKE_MEMORY = "from pixelpress.catalogue import parallel; parallel.available_memory = lambda: {:d}"


def wait_for_lines(path: Path, n: int) -> None:
    """Until the manifest a running command writes has `n` lines."""
    deadline = time.monotonic() + 60
    while not (path.exists() and path.read_text().count("\n") >= n):
        assert time.monotonic() < deadline, f"{path} never had {n} lines"
        time.sleep(0.02)


@pytest.fixture()
def shoot(tmp_path: Path) -> Path:
    """12 photos, a PNG whose stem clashes with a JPEG's, and a damaged file."""
    photos(tmp_path / "in", 12)
    (tmp_path / "in" / "photo000.png").write_bytes(samples.photo_bytes("coffee.png", "PNG"))
    good = (tmp_path / "in" / "photo001.jpg").read_bytes()
    (tmp_path / "in" / "damaged.jpg").write_bytes(good[: len(good) // 3])
    return tmp_path


def test_two_processes_write_what_one_writes_in_the_same_order(shoot):
    args = ("convert", "in", "--set", "format=webp", "--set", "max_width=200", "--json", "-v")
    one = cli(*args, "-o", "one", "-j", "1", cwd=shoot)
    two = cli(*args, "-o", "two", "-j", "2", cwd=shoot)
    assert one.returncode == two.returncode == 1, two.stderr  # the damaged file fails, alone
    assert "1 process" in one.stderr and ": 2 processes" in two.stderr
    assert tree(shoot / "one") == tree(shoot / "two") and len(tree(shoot / "two")) == 13
    # the PNG and the first JPEG share a stem: named alike, whichever process finished first
    assert {"photo000.webp", "photo000-1.webp"} <= set(tree(shoot / "two"))
    records = [json.loads(line) for line in two.stdout.splitlines()]
    assert [r["input"] for r in records] == [json.loads(line)["input"] for line in one.stdout.splitlines()]
    assert [r["input"] for r in records] == sorted(r["input"] for r in records)  # the folder's order
    bad = [r for r in records if not r["ok"]]
    assert [(r["input"], r["error"]["code"]) for r in bad] == [("in/damaged.jpg", "corrupt_image")]
    assert opened(shoot / "two" / "photo005.webp").size == (200, 150)
    peaks = two.stderr.split("peak memory of 2 processes: ")[1].split(" (")[0]
    assert len(peaks.split(", ")) == 2  # both processes worked, and their peaks are said


def test_the_processes_are_bounded_by_the_memory_free(shoot):
    # convert may take 50 MP (25 B/px: 1.25 GB a process at worst); 80% of 2 GB holds one such process.
    pre = FAKE_MEMORY.format(2_000_000_000)
    run = cli("convert", "in", "-o", "out", "-j", "2", "-v", cwd=shoot, pre=pre)
    # the headers are read: these photos are 0.1 MP, so two processes fit after all
    assert "2,000 MB available" in run.stderr and "the largest input); " in run.stderr
    assert run.stderr.split("\n")[0].endswith(": 2 processes"), run.stderr
    # standard input has no header to read before it is read: it counts at the largest convert takes
    run = cli("convert", "-", "in/photo002.jpg", "-o", "out", "-j", "2", "-v", cwd=shoot, pre=pre,
              stdin=(shoot / "in" / "photo003.jpg").read_bytes())
    assert "(60 MB + 25 B/px x 50.0 MP, the largest convert takes)" in run.stderr
    assert run.stderr.split("\n")[0].endswith(": 1 process"), run.stderr
    assert run.returncode == 0 and opened(shoot / "out" / "stdin.jpg").size == (320, 240)
    # and with no room at all, one process still runs; a -j that memory lowers is said without -v
    run = cli("convert", "in", "-o", "out", "-j", "2", cwd=shoot, pre=FAKE_MEMORY.format(0))
    assert run.stderr.split("\n")[0].endswith("0 MB available, 80% holds 0: 1 process"), run.stderr
    assert "13 written, 1 failed" in run.stderr


def test_the_manifest_has_one_line_per_input_and_resume_runs_only_what_is_not_done(shoot):
    args = ("convert", "in", "missing.jpg", "-o", "out", "--set", "format=png", "--manifest", "run.jsonl")
    first = cli(*args, cwd=shoot)
    assert first.returncode == 1
    lines = manifest(shoot / "run.jsonl")
    assert sorted(line["source"] for line in lines) == sorted(["missing.jpg", "in/damaged.jpg"]
                                                             + [f"in/photo{i:03d}.jpg" for i in range(12)] + ["in/photo000.png"])
    by = {line["source"]: line for line in lines}
    assert by["missing.jpg"]["error"]["code"] == "not_found" and by["in/damaged.jpg"]["error"]["code"] == "corrupt_image"
    ok = by["in/photo004.jpg"]
    assert ok["op"] == "convert" and ok["options"] == {"format": "png"}
    assert ok["bytes_in"] == (shoot / "in/photo004.jpg").stat().st_size
    (out,) = ok["outputs"]
    written = (shoot / out["path"]).read_bytes()
    assert out["bytes"] == len(written) and out["sha256"] == hashlib.sha256(written).hexdigest()
    assert ok["meta"]["format"] == "png" and (ok["meta"]["width"], ok["meta"]["height"]) == (320, 240)

    # one output gone, one replaced by other bytes: those two run again, with the failures; the rest are done
    (shoot / "out" / "photo004.png").unlink()
    (shoot / "out" / "photo007.png").write_bytes(b"not what was written")
    before = (shoot / "out" / "photo008.png").stat().st_mtime_ns
    again = cli(*args, "--skip-existing", "--json", cwd=shoot)
    records = [json.loads(line) for line in again.stdout.splitlines()]
    ran = sorted(r["input"] for r in records if not r.get("skipped"))
    assert ran == ["in/damaged.jpg", "in/photo004.jpg", "in/photo007.jpg", "missing.jpg"], ran
    assert (shoot / "out" / "photo008.png").stat().st_mtime_ns == before  # not written again
    assert opened(shoot / "out" / "photo007.png").size == (320, 240)
    lines = manifest(shoot / "run.jsonl")
    assert len(lines) == 15 and len({line["source"] for line in lines}) == 15  # still one line per input
    assert sum(bool(line.get("skipped")) for line in lines) == 11

    # another output folder, or other options: nothing is done there yet
    elsewhere = cli(*args[:-2], "-o", "elsewhere", "--manifest", "run.jsonl", "--skip-existing", "--json", cwd=shoot)
    assert not any(json.loads(line).get("skipped") for line in elsewhere.stdout.splitlines())
    assert len(list((shoot / "elsewhere").iterdir())) == 13
    jpeg = cli(*args[:-4], "--set", "format=jpeg", "-o", "elsewhere", "--manifest", "run.jsonl", "--skip-existing",
               "--json", cwd=shoot)
    assert not any(json.loads(line).get("skipped") for line in jpeg.stdout.splitlines())
    assert cli("convert", "in", "-o", "out", "--skip-existing", cwd=shoot).returncode == 2  # needs --manifest
    run = cli("convert", "in", "-o", "out", "--manifest", "in", cwd=shoot)
    assert run.returncode == 2 and "--manifest in: cannot use it" in run.stderr


def test_a_killed_run_resumes_where_it_stopped(tmp_path):
    photos(tmp_path / "in", 40)
    args = ["convert", "in", "-o", "out", "-j", "1", "--manifest", "run.jsonl", "--set", "format=png"]
    proc = subprocess.Popen(command(*args), cwd=tmp_path, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_lines(tmp_path / "run.jsonl", 5)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    done = [line for line in manifest(tmp_path / "run.jsonl") if line["ok"]]  # every line written is whole
    assert 5 <= len(done) < 40
    run = cli(*args, "--skip-existing", cwd=tmp_path)
    assert run.returncode == 0 and f"{len(done)} done before" in run.stderr and f"{40 - len(done)} written" in run.stderr
    lines = manifest(tmp_path / "run.jsonl")
    assert sorted(line["source"] for line in lines) == [f"in/photo{i:03d}.jpg" for i in range(40)]
    assert all(opened(tmp_path / line["outputs"][0]["path"]).size == (320, 240) for line in lines)


def test_ctrl_c_stops_the_workers_at_once_and_leaves_whole_files(tmp_path):
    photos(tmp_path / "in", 40, size=(800, 600))
    proc = subprocess.Popen(command("convert", "in", "-o", "out", "-j", "2", "--manifest", "run.jsonl", "--set", "format=png"),
                            cwd=tmp_path, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    main = psutil.Process(proc.pid)
    wait_for_lines(tmp_path / "run.jsonl", 2)
    workers = main.children(recursive=True)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130 and "pixelpress: interrupted" in err
    assert not [w for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE]
    lines = manifest(tmp_path / "run.jsonl")
    assert 2 <= len(lines) < 40 and sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        Path(line["outputs"][0]["path"]).name for line in lines)  # no half-written file, no .part left


def test_a_worker_killed_mid_run_costs_no_input(tmp_path):
    """The system may kill a worker (out of memory): its inputs run again, alone, and all are written."""
    photos(tmp_path / "in", 40)
    proc = subprocess.Popen(command("convert", "in", "-o", "out", "-j", "2", "--json", "--set", "format=png"),
                            cwd=tmp_path, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    main = psutil.Process(proc.pid)
    killed = None
    deadline = time.monotonic() + 60
    while killed is None and time.monotonic() < deadline:
        for child in main.children():  # forked: the workers are the main process's children with its command line
            try:
                if child.cmdline() == main.cmdline() and len(list((tmp_path / "out").glob("*.png"))) >= 3:
                    child.kill()
                    killed = child.pid
                    break
            except psutil.NoSuchProcess:
                continue
        time.sleep(0.01)
    out, err = proc.communicate(timeout=120)
    assert killed is not None
    records = [json.loads(line) for line in out.splitlines()]
    assert proc.returncode == 0 and len(records) == 40 and all(r["ok"] for r in records), err
    assert "pixelpress: a worker process died; the inputs it and its neighbours held run again, each alone" in err
    assert len(list((tmp_path / "out").glob("*.png"))) == 40
    assert len(list((tmp_path / "out").iterdir())) == 40  # no temporary file of the killed worker's left


def test_standard_input_to_standard_output_in_a_pipe(tmp_path):
    photos(tmp_path, 1)
    src = (tmp_path / "photo000.jpg").read_bytes()
    run = cli("convert", "-", "-o", "-", "--set", "format=png", "--set", "max_width=100", cwd=tmp_path, stdin=src)
    assert run.returncode == 0, run.stderr
    im = opened(__import__("io").BytesIO(run.stdout))
    assert (im.format, im.size) == ("PNG", (100, 75))
    assert "- -> -  100x75 png" in run.stderr  # the result line goes to stderr: stdout is the picture
    # a file in, stdout out; and a pipe of a damaged picture fails typed, writing nothing
    run = cli("convert", "photo000.jpg", "-o", "-", cwd=tmp_path, stdin=b"")
    assert run.returncode == 0 and opened(__import__("io").BytesIO(run.stdout)).format == "JPEG"
    run = cli("convert", "-", "-o", "-", cwd=tmp_path, stdin=src[:200])
    assert run.returncode == 1 and run.stdout == b"" and "FAILED -: corrupt_image: " in run.stderr
    # stdout takes one picture: two inputs, or an op that makes several files, are usage errors
    run = cli("convert", "-", "photo000.jpg", "-o", "-", cwd=tmp_path, stdin=src)
    assert run.returncode == 2 and "-o - writes one result to standard output; 2 inputs" in run.stderr
    samples.cutout().save(tmp_path / "cat.png")
    run = cli("listing_variants", "cat.png", "-o", "-", cwd=tmp_path, stdin=b"")
    assert run.returncode == 2 and run.stdout == b"" and "listing_variants makes 2 files" in run.stderr
