"""The client's TypeScript declarations, as a TypeScript user meets them (issue 13).

The build writes dist/client/*.d.ts: the options of every op from the
engine's schema, the client from its JSDoc. A small app importing the
package by name (through dist/package.json's `exports`) must compile with
`tsc --noEmit --strict`, and each mistake below must not: a wrong option
type, a value outside a choice, a misspelt option, an unknown op, a missing
required option, a wrong result path.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pixelpress.schema import schema

ROOT = Path(__file__).resolve().parent.parent
DIST = Path(os.environ.get("PIXELPRESS_DIST") or ROOT / "dist")
TSC = ROOT / "node_modules" / "typescript" / "bin" / "tsc"

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node runs tsc")

GOOD = """
import { PixelpressClient, PixelpressError, runWithFallback, CODES } from 'pixelpress';
import type { OperationOptions, OpName, FallbackResult, ErrorCode } from 'pixelpress';
import { probeServer } from 'pixelpress/remote';

const px = new PixelpressClient({ baseUrl: 'https://static.example.com/pixelpress/', prefetch: false,
  onLoading: ({ phase, loaded, total }) => console.log(phase, loaded / total) });
const photo = new Blob([]);

export async function main(signal: AbortSignal): Promise<void> {
  const painted = await px.run('oil_paint', photo, { intensity: 7, brush_size: 6, format: 'jpeg', max_width: null });
  const width: number = painted.meta.width;
  const first: Blob | undefined = painted.blob;
  await px.run('convert', 'https://example.com/a.png', { format: 'webp', quality: 80 }, { signal });
  await px.run('asset_pack', photo, { team_name: 'Otters', colors: ['#0b3d91'], players: [{ number: 7, name: 'Ana' }] });
  const batch = await px.runBatch([photo, photo], 'convert', { format: 'png' });
  for (const entry of batch) if (!entry.ok) console.log(entry.error.code);

  const r: FallbackResult = await px.runWithFallback(
    ({ signal: s, options }) => fetch(`/api/paint?b=${options.brush_size}`, { method: 'POST', body: photo, signal: s }),
    'oil_paint', photo, { brush_size: 3 }, { serverTimeoutMs: 5000, signal, onFallback: (why) => console.log(why.code) });
  const path: 'server' | 'device' = r.path;
  const status: number | undefined = r.reason?.status;
  await runWithFallback(px, async () => new Blob([]), 'convert', photo, { format: 'jpeg' });

  try {
    await px.ready();
  } catch (e) {
    if (e instanceof PixelpressError) {
      const code: ErrorCode = e.code;
      if (code === 'worker_unavailable' || code === 'corrupt_image') console.log(CODES.worker_unavailable.when);
    }
  }
  const names: OpName[] = ['convert', 'oil_paint'];
  const opts: OperationOptions['car_listing'] = { provider: 'classical', shadow_style: 'drop' };
  console.log(width, first, path, status, names, opts, (await probeServer()).available);
}
"""

BAD = {
    "a number option given text": "px.run('convert', photo, { quality: 'high' });",
    "a value outside a choice": "px.run('convert', photo, { format: 'gif' });",
    "a misspelt option": "px.run('oil_paint', photo, { brush: 4 });",
    "an unknown op": "px.run('blur', photo, {});",
    "a list item of the wrong kind": "px.run('roster_banner', photo, { team_name: 'A', players: [{ number: '7' }] });",
    "a required option left out": "px.run('asset_pack', photo, { sport: 'Rugby' });",
    "a boolean given a number": "px.run('car_listing', photo, { shadow: 1 });",
    "a wrong path": "px.runWithFallback(async () => photo, 'convert', photo).then((r) => { const p: 'cloud' = r.path; });",
    "a wrong client option": "new PixelpressClient({ baseUrl: 42 });",
}


def tsc(tmp: Path, sources: dict[str, str]) -> subprocess.CompletedProcess:
    """Compile these files (name -> source) as one project against the package; tsc reports each file's errors."""
    for name, source in sources.items():
        (tmp / name).write_text(source)
    config = json.loads((tmp / "tsconfig.base.json").read_text())
    config["files"] = list(sources)
    (tmp / "tsconfig.json").write_text(json.dumps(config))
    return subprocess.run(["node", str(TSC), "-p", str(tmp)], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    if not (DIST / "client" / "pixelpress.d.ts").exists():
        raise RuntimeError(f"{DIST} has no client declarations: run `make build`")
    tmp = tmp_path_factory.mktemp("ts-app")
    (tmp / "node_modules").mkdir()
    (tmp / "node_modules" / "pixelpress").symlink_to(DIST, target_is_directory=True)
    (tmp / "tsconfig.base.json").write_text(json.dumps({
        "compilerOptions": {"strict": True, "noEmit": True, "target": "es2022", "module": "es2022",
                            "moduleResolution": "bundler", "lib": ["es2022", "dom", "dom.iterable"],
                            "skipLibCheck": False, "types": []},
    }))
    return tmp


def test_an_app_using_the_client_compiles(project):
    done = tsc(project, {"app.ts": GOOD})
    assert done.returncode == 0, done.stdout + done.stderr


def test_each_mistake_fails_to_compile_on_its_own_line(project):
    head = "import { PixelpressClient } from 'pixelpress';\nconst px = new PixelpressClient();\nconst photo = new Blob([]);\n"
    files = {f"mistake{i}.ts": head + line + "\nexport {};\n" for i, line in enumerate(BAD.values())}
    done = tsc(project, files)
    assert done.returncode != 0
    for (name, _), mistake in zip(files.items(), BAD, strict=True):
        # The error is on the mistake's own line (4), not somewhere in the declarations.
        assert re.search(rf"{name}\(4,\d+\): error TS\d+", done.stdout), f"{mistake} compiled: {BAD[mistake]}"
    assert not re.search(r"\.d\.ts\(\d+,\d+\): error", done.stdout), done.stdout


def test_every_op_and_option_is_declared():
    text = (DIST / "client" / "operations.d.ts").read_text()
    for op, entry in schema().items():
        body = re.search(r"export interface \w+Options {\n(.*?)\n}", text[text.index(f"Options of `{op}`"):], re.S)
        assert body, op
        declared = set(re.findall(r"^  (\w+)\??:", body.group(1), re.M))
        assert declared == {f["name"] for f in entry["options"]}, op
    assert "  format?: \"jpeg\" | \"png\" | \"webp\";" in text  # convert's format, a literal union
