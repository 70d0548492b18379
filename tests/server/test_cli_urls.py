"""URL inputs on the command line, against a real HTTP server on this machine.

The server (tests/image_server.py) answers with pictures, 404s, HTML, slow
answers and a body that drips a byte at a time; each URL must end in the
manifest once, with its typed code, within its timeout.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
import samples
from cli_run import cli, command, env, manifest, opened
from image_server import serving
from pixelpress.catalogue import fetch, parallel
from pixelpress.catalogue.core import BlockedAddress, DownloadTimeout, Task


@pytest.fixture(scope="module")
def server():
    images = {"red-shoe": samples.photo_bytes("astronaut.png", "JPEG"), "cat": samples.photo_bytes("chelsea.png", "JPEG"),
              "..%2F..%2Fescape": samples.photo_bytes("coffee.png", "JPEG")}
    with serving(images) as s:
        yield s


def test_each_url_is_accounted_for_once_with_its_code_and_none_outlives_its_timeout(server, tmp_path):
    b = server.base
    urls = {f"{b}/img/red-shoe.jpg?w=800": "ok", f"{b}/img/cat.jpg": "ok", f"{b}/missing/gone.jpg": "download_failed",
            f"{b}/text/page.jpg": "unsupported_format", f"{b}/slow/30/cat.jpg": "download_timeout",
            f"{b}/drip/cat.jpg": "download_timeout", "http://127.0.0.1:9/refused.jpg": "download_failed"}
    (tmp_path / "urls.txt").write_text("# the shop's feed\n" + "\n".join(urls) + f"\n\n{b}/img/cat.jpg\n")  # once twice
    start = time.monotonic()
    run = cli("convert", "--urls", "urls.txt", "-o", "out", "--allow-private", "--timeout", "1.5",
              "--manifest", "run.jsonl", "--set", "format=png", cwd=tmp_path)
    took = time.monotonic() - start
    assert run.returncode == 1, run.stderr
    lines = manifest(tmp_path / "run.jsonl")
    assert sorted(line["source"] for line in lines) == sorted(urls)  # each once, the repeat too
    codes = {line["source"]: line["error"]["code"] if not line["ok"] else "ok" for line in lines}
    assert codes == urls
    by = {line["source"]: line for line in lines}
    assert by[f"{b}/missing/gone.jpg"]["error"]["status"] == 404
    assert "1.5 s" in by[f"{b}/drip/cat.jpg"]["error"]["message"]  # the drip sends a byte every 0.2 s: only the deadline ends it
    assert took < 15, took  # the slow (30 s) and the dripping answers were cut at 1.5 s...
    assert max(line["download_ms"] for line in lines) < 1500 + 1000  # ...each (give or take a busy machine)
    assert opened(tmp_path / "out" / "red-shoe.png").size == samples.image("astronaut.png").size  # named after the URL's file
    assert opened(tmp_path / "out" / "cat.png").size == samples.image("chelsea.png").size
    assert f"FAILED {b}/text/page.jpg: unsupported_format: " in run.stderr


def test_private_and_loopback_hosts_are_refused_unless_allowed(server, tmp_path):
    port = server.base.rsplit(":", 1)[1]
    before = dict(server.hits)
    urls = [f"http://127.0.0.1:{port}/img/cat.jpg", f"http://localhost:{port}/img/red-shoe.jpg",
            f"http://[::ffff:127.0.0.1]:{port}/img/cat.jpg", "http://169.254.169.254/latest/meta-data.jpg"]
    run = cli("convert", *urls, "-o", "out", "--json", "--manifest", "run.jsonl", cwd=tmp_path)
    assert run.returncode == 1
    assert [line["error"]["code"] for line in manifest(tmp_path / "run.jsonl")] == ["blocked_address"] * 4
    assert "refused unless --allow-private" in manifest(tmp_path / "run.jsonl")[1]["error"]["message"]
    assert server.hits == before and not (tmp_path / "out").exists()  # nothing was even asked


def test_a_redirect_to_a_refused_address_is_refused(server, monkeypatch):
    """The guard is where connections are made, so it judges a redirect's target too."""
    with serving({}, host="127.0.0.2") as inner:
        monkeypatch.setattr(fetch, "refused", lambda address: "private" if address == "127.0.0.2" else None)
        fetcher = fetch.Fetcher(timeout=5)
        try:
            assert fetcher.get(f"{server.base}/img/cat.jpg")[:2] == b"\xff\xd8"  # 127.0.0.1 is allowed here
            with pytest.raises(BlockedAddress, match="127.0.0.2"):
                fetcher.get(f"{server.base}/redirect?to={inner.base}/img/cat.jpg")
        finally:
            fetcher.close()
        assert inner.hits == {}


def test_a_resolver_that_does_not_answer_is_cut_at_the_timeout(monkeypatch):
    real = fetch.socket.getaddrinfo

    def slow(*args, **kwargs):
        time.sleep(5)
        return real(*args, **kwargs)

    monkeypatch.setattr(fetch.socket, "getaddrinfo", slow)
    fetcher = fetch.Fetcher(timeout=1)
    start = time.monotonic()
    try:
        with pytest.raises(DownloadTimeout, match="longer than 1 s"):
            fetcher.get("http://shop.example/a.jpg")
    finally:
        fetcher.close()
    assert time.monotonic() - start < 2


def test_downloads_are_capped_in_bytes_and_in_number_at_once(server, tmp_path):
    b = server.base
    run = cli("convert", f"{b}/img/red-shoe.jpg", f"{b}/img/cat.jpg", "-o", "out", "--allow-private",
              "--max-download", "0.03", "--manifest", "run.jsonl", cwd=tmp_path)
    sizes = {"red-shoe": len(server.images["red-shoe"]), "cat": len(server.images["cat"])}
    assert sizes["red-shoe"] > 30_000 > sizes["cat"]  # one over the cap, one under
    codes = [line.get("error", {}).get("code", "ok") for line in manifest(tmp_path / "run.jsonl")]
    assert codes == ["too_large", "ok"] and run.returncode == 1

    with serving(server.images) as fresh:  # the module's server may still be sleeping on an earlier test's slow URL
        urls = [f"{fresh.base}/slow/0.4/cat.jpg?n={i}" for i in range(6)]
        run = cli("convert", *urls, "-o", "out2", "--allow-private", "--downloads", "2", cwd=tmp_path)
    assert run.returncode == 0 and fresh.most == 2, run.stderr
    # six URLs with the same file name: numbered as files of the same stem are
    assert sorted(p.name for p in (tmp_path / "out2").iterdir()) == ["cat-1.jpg", "cat-2.jpg", "cat-3.jpg", "cat-4.jpg",
                                                                     "cat-5.jpg", "cat.jpg"]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_cuts_the_downloads_under_way(server, tmp_path, jobs):
    """Ctrl-C does not wait out a slow server's timeout: the sockets are shut."""
    urls = [f"{server.base}/slow/30/cat.jpg?ctrl-c={jobs}{i}" for i in range(4)] + [f"{server.base}/drip/cat.jpg?c={jobs}"]
    proc = subprocess.Popen(command("convert", *urls, "-o", "out", "--allow-private", "--timeout", "25", "-j", jobs),
                            cwd=tmp_path, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while sum(n for path, n in server.hits.items() if f"c={jobs}" in path or f"ctrl-c={jobs}" in path) < 3:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    start = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130 and "interrupted" in err and time.monotonic() - start < 5


def test_downloads_waiting_for_their_turn_stay_under_the_memory_bound(monkeypatch):
    """Downloads run ahead of the input awaited only while their bytes stay under HELD_BYTES: with a bound of
    one byte, one download waits at a time, however many the fetcher could run."""
    monkeypatch.setattr(parallel, "HELD_BYTES", 1)
    with serving({"cat": samples.photo_bytes("chelsea.png", "JPEG")}) as fresh:
        runner = parallel.Runner("convert", {}, 1, fetch.Fetcher(concurrency=3, allow_private=True))
        try:
            tasks = [(Task(i, f"u{i}"), f"{fresh.base}/slow/0.2/cat.jpg?held={i}") for i in range(6)]
            results = [result for _, result in runner.run(tasks)]
        finally:
            runner.close()
    assert [r["ok"] for r in results] == [True] * 6 and fresh.most == 1


def test_a_url_cannot_name_a_file_outside_the_output_folder(server, tmp_path):
    run = cli("convert", f"{server.base}/img/..%2F..%2Fescape.jpg", "-o", "out", "--allow-private", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["escape.jpg"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_malformed_urls_fail_typed_each_alone(server, tmp_path):
    bad = ["http://[::1", "http://xn--/a.jpg", "https://", "http://exa mple.com/x.jpg", "http://%00/x.jpg",
           f"http://{'a' * 300}.com/x.jpg", "http://user:pw@127.0.0.1:1/x.jpg"]
    listed = "\n".join(bad[1:] + [f"{server.base}/img/cat.jpg"]).encode()  # the list on standard input (--urls -)
    run = cli("convert", bad[0], "--urls", "-", "-o", "out", "--manifest", "run.jsonl", "--json", "--allow-private",
              cwd=tmp_path, stdin=listed)
    lines = manifest(tmp_path / "run.jsonl")
    assert [line["source"] for line in lines] == [*bad, f"{server.base}/img/cat.jpg"] and run.returncode == 1
    assert {line["error"]["code"] for line in lines[:-1]} == {"download_failed"} and lines[-1]["ok"]


def test_without_httpx_a_url_says_which_extra_to_install(tmp_path):
    run = cli("convert", "https://shop.example/a.jpg", "-o", "out", cwd=tmp_path, pre="import sys; sys.modules['httpx'] = None")
    assert run.returncode == 1 and run.stderr.count("missing_dependency") == 1
    assert 'URL inputs need httpx' in run.stderr and 'pip install "pixelpress[urls]"' in run.stderr
    assert not (tmp_path / "out").exists()


def test_the_blocked_ranges(tmp_path: Path):
    assert fetch.refused("93.184.216.34") is None and fetch.refused("2606:2800:220:1::") is None
    for address, why in [("10.1.2.3", "private"), ("127.0.0.1", "loopback"), ("169.254.169.254", "link-local"),
                         ("224.0.0.1", "multicast"), ("0.0.0.0", "unspecified"), ("100.64.0.1", "not public"),
                         ("::1", "loopback"), ("fe80::1", "link-local"), ("fc00::1", "private"),
                         ("::ffff:10.0.0.1", "private"), ("2002:7f00:1::", "loopback"), ("64:ff9b::a9fe:a9fe", "link-local")]:
        assert fetch.refused(address) == why, address
