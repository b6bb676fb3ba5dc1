"""Build xpgrad._cuda against the CPU stand-in runtime (cuda_runtime.h here): the real kernel
and binding sources, with `k<<<g, b, s, st>>>(args);` rewritten to emu::launch(...), compiled
by g++ into an importable module. Usage: python tools/cuda_emu/build.py OUT_DIR."""

from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
# Compiled "for sm_80" so gemm_tf32.cu's tensor-core body is kept (mma.h here emulates WMMA).
ARCH = {"gemm_tf32.cu": ["-D__CUDA_ARCH__=800"]}
LAUNCH = re.compile(r"([;{}]\s*)([^;{}]*?)\s*<<<(.*?)>>>\((.*?)\);", re.S)
DYNAMIC_SHARED = re.compile(r"extern __shared__[^;]*?(\w+)\[\];")


def translate(source: str) -> str:
    source = re.sub(r"//[^\n]*", "", source)
    source = DYNAMIC_SHARED.sub(r"unsigned char* \1 = emu::dynamic_smem();", source)
    return LAUNCH.sub(lambda m: f"{m[1]}emu::launch({m[3]}, [&] {{ {m[2]}({m[4]}); }});", source)


def build(out: Path) -> Path:
    import pybind11

    gen = out / "src" / "cuda"
    gen.mkdir(parents=True, exist_ok=True)
    for header in (ROOT / "csrc" / "cuda").glob("*.cuh"):
        (gen / header.name).write_text(translate(header.read_text()))
    sources = []
    extra = {}
    for cu in sorted((ROOT / "csrc" / "cuda").glob("*.cu")):
        (gen / (cu.stem + ".cpp")).write_text(translate(cu.read_text()))
        sources.append(gen / (cu.stem + ".cpp"))
        extra[cu.stem] = ARCH.get(cu.name, [])
    sources += sorted((ROOT / "csrc" / "bindings").glob("cuda_*.cpp"))
    flags = ["g++", "-std=c++20", "-O2", "-fPIC", "-w", f"-I{HERE}", f"-I{ROOT / 'csrc' / 'include'}",
             f"-I{pybind11.get_include()}", f"-I{sysconfig.get_paths()['include']}"]
    objects = [out / (s.stem + ".o") for s in sources]

    def compile_one(pair):
        src, obj = pair
        subprocess.run([*flags, *extra.get(src.stem, []), "-c", str(src), "-o", str(obj)], check=True)

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(compile_one, zip(sources, objects)))
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    module = out / f"_cuda{suffix}"
    subprocess.run(["g++", "-shared", "-pthread", *map(str, objects), "-o", str(module)], check=True)
    return module


if __name__ == "__main__":
    print(build(Path(sys.argv[1]).resolve()))
