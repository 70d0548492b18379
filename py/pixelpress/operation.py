"""What an operation is: its spec, and the prologue and finish every op shares.

An op is one module in `pixelpress.ops` named after the op. It declares

    SPEC = OpSpec("oil_paint", OilPaintOptions, OPENCV, label="Oil paint", work_bytes_per_pixel=96)

    @operation(SPEC)
    async def oil_paint(job: Job) -> Result:
        src, rgba, had_alpha = await job.open_rgba()
        ...
        return job.finish(await job.encode(im, fmt, quality=job.opts.quality), fmt, im.size, brush_size=...)

and callers see `oil_paint(data, options=None, limits=None)`, and the worker
`oil_paint.run_async(data, options, limits, codecs=...)`. `operation`
parses the options, sets the working-memory budget and hands the body a
`Job`; `Job.finish` writes the meta keys every result carries, so they are
spelled once. Before that, `require` checks that the libraries the spec
declares can be imported (natively OpenCV is an extra): `missing_dependency`
names what to install. The registry finds ops by listing `pixelpress.ops`.
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, NamedTuple

from .coroutines import run_now
from .errors import MissingDependency
from .options import parse_options
from .result import Output, Result, Timings

if TYPE_CHECKING:
    import numpy as np

    from .decode import Decoded
    from .limits import Limits
    from .provider import Codecs

PILLOW = ("pillow",)
NUMPY = ("pillow", "numpy")
OPENCV = ("pillow", "numpy", "opencv-python")


class Dependency(NamedTuple):
    module: str  # what the op imports
    name: str  # what a person calls it
    install: str  # what adds it to a native install


# The packages of an OpSpec (Pyodide's names, which the worker loads) as they are natively. Pillow and
# NumPy come with `pip install pixelpress`; OpenCV is the `opencv` extra.
DEPENDENCIES = {
    "pillow": Dependency("PIL", "Pillow", "pip install pillow"),
    "numpy": Dependency("numpy", "NumPy", "pip install numpy"),
    "opencv-python": Dependency("cv2", "OpenCV", 'pip install "pixelpress[opencv]"'),
}


# Natively the ops that cut out (OpSpec.model) also run the network with onnxruntime for `provider: local`
# (the worker runs onnxruntime-web instead): the same extra as OpenCV brings it. Checked when an op needs
# it (saliency.native_segmenter), not by `require`, since `provider: classical` does without.
NETWORK = Dependency("onnxruntime", "onnxruntime", DEPENDENCIES["opencv-python"].install)


def _importable(module: str) -> bool:
    if module in sys.modules:
        return sys.modules[module] is not None  # None: imports of it are blocked
    return importlib.util.find_spec(module) is not None  # looks, without importing (OpenCV takes ~0.1 s)


def missing_dependencies(packages: tuple[str, ...]) -> list[Dependency]:
    """The libraries among `packages` (an OpSpec's) that cannot be imported here."""
    return [DEPENDENCIES[p] for p in packages if not _importable(DEPENDENCIES[p].module)]


def missing_for(spec: OpSpec) -> list[Dependency]:
    """What `spec`'s op lacks here to run with its defaults: its libraries, and onnxruntime for a cut-out."""
    return missing_dependencies(spec.packages) + ([NETWORK] if spec.model and not _importable(NETWORK.module) else [])


def dependency_error(label: str, missing: list[Dependency]) -> MissingDependency:
    names = " and ".join(d.name for d in missing)
    commands = "; ".join(dict.fromkeys(d.install for d in missing))
    verb, it = ("is", "it") if len(missing) == 1 else ("are", "them")
    return MissingDependency(f"{label} needs {names}, which {verb} not installed here. Install {it} with: {commands}")


def require(spec: OpSpec) -> None:
    """Raise `missing_dependency` unless every library `spec` declares can be imported here."""
    missing = missing_dependencies(spec.packages)
    if missing:
        raise dependency_error(spec.label, missing)


# Working memory an op may need for one image, checked against
# `work_bytes_per_pixel` x the header's pixel count before anything is decoded
# (decode.Limits.check_work). In the worker, wasm memory never shrinks and
# stops at 4 GB: an op that ran out of it there left a 4 GB worker behind.
# 2 GB plus the runtime (~0.2-0.4 GB with OpenCV) stays well below 4 GB. It is
# not 1.5 GB because the heaviest ops (the logo clean-up and the team ops
# built on it) need 1.6 GB for a 12 MP camera photo, which must keep working.
# The pool recycles a worker whose heap is over 1.5 GB after a job
# (RECYCLE_HEAP_BYTES in web/client/pixelpress.js).
#
# Each op's `work_bytes_per_pixel` is the peak RSS growth of one native run
# on a 12 MP input (4000x3000 JPEG photo; 3464x3464 PNG logo for the team
# ops; RGBA cut-out PNG for the listing steps), rounded up, measured in a
# fresh process after a warm-up run on a small image; the measured figure
# stands beside each SPEC. An op whose figure keeps it under the budget up
# to the 50 MP pixel cap is never refused for memory.
WORK_BUDGET_BYTES = 2_000_000_000


@dataclass(frozen=True)
class OpSpec:
    name: str  # also the name of its module in pixelpress.ops and of the function there
    options: type  # the options dataclass: parsed before the op runs, and the schema the page reads
    packages: tuple[str, ...]  # Pyodide packages the worker loads first
    # What a person calls it: the op's name as written in words ("Oil paint", "Logo clean-up", "Remove background"),
    # capitalised, no article; `pixelpress ops` lists it and messages open with it: "Oil paint needs OpenCV ..."
    label: str
    work_bytes_per_pixel: int  # peak working memory per input pixel; see WORK_BUDGET_BYTES
    progress: bool = False  # the function accepts a `progress` callback (one event shape: pipeline.run_steps)
    model: bool = False  # runs the salient-object network: the op takes a `segmenter`
    # The main output's name (meta["name"]), which names its file after the input's stem: `<stem>-<output><ext>`
    # in the studio's downloads and from the command line alike (`photo-processed.png`); empty: `<stem><ext>`.
    # Further outputs are named by `output(name, ...)`: `<stem>-<name><ext>`.
    output: str = ""

    def limits(self) -> Limits:
        """The decoding limits for this op: the shared caps plus its working-memory budget."""
        return _limits(self)


@functools.cache
def _limits(spec: OpSpec) -> Limits:
    from .limits import DEFAULT_LIMITS

    return replace(DEFAULT_LIMITS, work_bytes_per_pixel=spec.work_bytes_per_pixel,
                   max_work_bytes=WORK_BUDGET_BYTES, work_label=spec.label)


class Job:
    """One call of an op: its input, parsed options, limits, timings and warnings."""

    def __init__(self, spec: OpSpec, data: bytes, options: Any, limits: Limits | None, codecs: Codecs | None = None):
        self.spec = spec
        self.codecs = codecs  # the provider: faster codecs than Pillow's where they meet the contract (browser.py)
        self.codec_meta: dict[str, str] = {}  # who decoded and who encoded: meta["codec"]
        self.data = data
        self.opts = parse_options(spec.options, options)
        self.limits = spec.limits() if limits is None else limits
        self.timings = Timings()
        self.warnings: list[str] = []
        self.input: dict = {}  # what the input was: input_format, input_width, ...; goes into meta

    def span(self, name: str):
        """Time a block into meta["timings_ms"][name]."""
        return self.timings.span(name)

    def note(self, decoded: Decoded) -> Decoded:
        """Record a decoded input's facts and warnings (for ops that decode inside their own steps)."""
        self.warnings += decoded.warnings
        self.codec_meta["decode"] = decoded.codec
        self._record_input(decoded.format, (decoded.width, decoded.height), decoded.profile, decoded.colour)
        return decoded

    def _record_input(self, fmt: str, size: tuple[int, int], profile: str | None, colour: str) -> None:
        self.input = {"input_format": fmt.lower(), "input_width": size[0], "input_height": size[1],
                      "input_bytes": len(self.data), "input_profile": profile, "colour": colour}

    async def transcode(self, fmt: str, *, fit: tuple[int | None, int | None] | None = None, **kwargs) -> tuple | None:
        """The input re-encoded as `fmt` by the codec provider, its pixels untouched: (bytes, size), or None.

        For an op that would change no pixel (browser.transcode says when the
        provider can do it as Pillow would); the header is read and checked
        as for `open`, and a hostile file is refused here the same way.
        """
        from .browser import transcode
        from .decode import fit_size, read_header, sniff
        from .formats.base import check_fits

        if self.codecs is None or sniff(self.data) != "JPEG":  # the one format transcoded: no other header read
            return None
        with self.span("decode"):
            head = read_header(self.data, self.limits)
        size = (head.width, head.height)
        if fit is not None and fit_size(*size, *fit) != size:
            return None
        check_fits(fmt, *size)  # the browser would clamp a 1x20000 WebP to 16383 rows, not refuse it
        with self.span("transcode"):
            done = await transcode(self.codecs, head, fmt, **kwargs)
        if done is None:  # declined (a PNG, a rotation, ...): the op's own steps are what it timed
            self.timings.ms.pop("transcode", None)
            return None
        out, colour, profile = done
        self.codec_meta = {"decode": self.codecs.name, "encode": self.codecs.name}
        self._record_input(head.format, size, profile, colour)
        return out, size

    async def open(self, *, fit: tuple[int | None, int | None] | None = None, keep_profile: bool = False) -> Decoded:
        """Decode the input (a Pillow image, in sRGB unless `keep_profile`), timed as "decode"."""
        from .decode import open_image_async

        with self.span("decode"):
            return self.note(await open_image_async(self.data, self.limits, fit=fit, codecs=self.codecs,
                                                    keep_profile=keep_profile))

    async def open_rgba(self, *, fit: tuple[int | None, int | None] | None = None
                        ) -> tuple[Decoded, np.ndarray, bool]:
        """Decode the input as (decoded, HxWx4 uint8 RGBA, had_transparency); see imaging.decode_rgba."""
        from .decode import open_image_async
        from .imaging import rgba_of

        with self.span("decode"):
            src, rgba, had_alpha = rgba_of(await open_image_async(self.data, self.limits, fit=fit,
                                                                  codecs=self.codecs), fit)
        self.note(src)
        return src, rgba, had_alpha

    async def encode(self, im, fmt: str, **kwargs) -> bytes:
        """`encode.encode` (a Pillow image or an RGBA array), timed as "encode"; the codec goes into meta."""
        from .encode import encode_by

        with self.span("encode"):
            data, by = await encode_by(im, fmt, codecs=self.codecs, **kwargs)
        seen = self.codec_meta.get("encode")
        self.codec_meta["encode"] = by if seen in (None, by) else "mixed"
        return data

    async def encode_all(self, images: dict, fmt: str, **kwargs) -> dict[str, bytes]:
        """Several pictures in one format, each as `encode` does it: natively side by side on this process's
        threads (Pillow's writers let go of the GIL, so a car listing's three PNGs take about the time of the
        largest); in the browser, where there are no threads and the provider is awaited, one by one."""
        from .cpu import threads

        n = min(len(images), threads())
        if self.codecs is not None or n < 2:
            return {name: await self.encode(im, fmt, **kwargs) for name, im in images.items()}
        from concurrent.futures import ThreadPoolExecutor

        from .coroutines import run_now
        from .encode import encode_by

        with self.span("encode"), ThreadPoolExecutor(n) as pool:
            futures = {name: pool.submit(run_now, encode_by(im, fmt, **kwargs)) for name, im in images.items()}
            done = {name: f.result() for name, f in futures.items()}
        for _data, by in done.values():
            seen = self.codec_meta.get("encode")
            self.codec_meta["encode"] = by if seen in (None, by) else "mixed"
        return {name: data for name, (data, _by) in done.items()}

    def finish(self, data: bytes, fmt: str, size: tuple[int, int], *, mime: str | None = None,
               extras: list[Output] | tuple = (), **meta) -> Result:
        """The Result with the keys every op's meta carries, then the op's own `meta`.

        format, width, height, bytes; input_format, input_width, input_height,
        input_bytes (when the op decoded its input); codec (who decoded and encoded:
        {"decode": "pillow" | "browser", "encode": ...}, the steps that ran); timings_ms and warnings.
        """
        from .encode import MIME

        head = {"format": fmt, "width": int(size[0]), "height": int(size[1]), "bytes": len(data)}
        if self.spec.output:
            meta = {"name": self.spec.output, **meta}
        tail = {"codec": dict(self.codec_meta), "timings_ms": self.timings.ms, "warnings": self.warnings}
        return Result(data, mime or MIME[fmt], head | self.input | meta | tail, list(extras))


def output(name: str, data: bytes, fmt: str, size: tuple[int, int], **meta) -> Output:
    """A further file of a multi-output op, with the same leading meta keys as the main one, and its name."""
    from .encode import MIME

    return Output(name, data, MIME[fmt], {"format": fmt, "width": int(size[0]), "height": int(size[1]),
                                          "bytes": len(data), "name": name, **meta})


def operation(spec: OpSpec) -> Callable:
    """Make the coroutine `body(job, **kwargs)` the op `fn(data, options=None, limits=None, **kwargs) -> Result`.

    Bodies are coroutines so that in the browser worker they await the
    browser's codecs and network (promises) on Pyodide's event loop, with no
    stack switching. Natively nothing really waits, so `fn` runs the body to
    its end at once; `fn.run_async` is the coroutine op the worker awaits, and
    takes `codecs` (the provider) besides.
    """
    def wrap(body):
        if not inspect.iscoroutinefunction(body):
            raise TypeError(f"the body of {spec.name} must be `async def` (it awaits job.open and job.encode)")

        async def run_async(data: bytes, options: Any = None, limits: Limits | None = None, *,
                            codecs: Codecs | None = None, **kwargs) -> Result:
            require(spec)
            return await body(Job(spec, data, options, limits, codecs), **kwargs)

        def op(data: bytes, options: Any = None, limits: Limits | None = None, **kwargs) -> Result:
            return run_now(run_async(data, options, limits, **kwargs))

        functools.update_wrapper(run_async, body)
        functools.update_wrapper(op, body)
        op.spec = run_async.spec = spec
        op.run_async = run_async
        return op
    return wrap
