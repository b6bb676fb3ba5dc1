#!/usr/bin/env bash
# The GPU checks in one run, for a machine with an NVIDIA GPU, CuPy and nvcc (the device tool's
# H100/H200 image has them): build xpgrad in place for this GPU, run the GPU test file, the GPU
# benchmark, then the whole suite on the cupy and cuda backends. Logs and results go to $OUT
# (default ./gpu-out). Each phase has its own time limit so one slow phase cannot eat the rest.
#
#   bash tools/gpu_checks.sh            # everything
#   PHASES="tests bench" bash tools/gpu_checks.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-gpu-out}
mkdir -p "$OUT"
PHASES=${PHASES:-"tests bench suite"}
export PYTHONUNBUFFERED=1 PYTHONPATH=python XPGRAD_BENCH_RESULTS="$OUT"
JOBS=$(nproc)
# pytest-xdist spreads the suite over processes when it is installed.
XDIST=$(python3 -c "import xdist, pytest_timeout" 2>/dev/null && echo "-n 8 --timeout 120")

{
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  python3 -c "import sys, numpy, cupy; print(sys.version.split()[0], 'numpy', numpy.__version__, 'cupy', cupy.__version__)"
  python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
  nvcc --version | tail -1
} 2>&1 | tee "$OUT/env.txt"

start=$SECONDS
if ! timeout 240 bash -c "cmake -S . -B build-gpu -G Ninja -DXPGRAD_INPLACE=ON -DXPGRAD_CUDA=ON \
      -DCMAKE_CUDA_ARCHITECTURES=${CUDA_ARCH:-90} -Dpybind11_DIR=\$(python3 -m pybind11 --cmakedir) \
      && cmake --build build-gpu -j$JOBS" >"$OUT/build.log" 2>&1; then
  tail -40 "$OUT/build.log"
  echo "BUILD FAILED"
  exit 1
fi
echo "build: $((SECONDS - start)) s"

for phase in $PHASES; do
  start=$SECONDS
  case $phase in
    tests)  # the GPU test file: every kernel against the numpy reference
      timeout 120 python3 -m pytest tests/test_gpu_backends.py tests/test_cuda_extension.py -q \
        -p no:cacheprovider $XDIST 2>&1 | tee "$OUT/tests.log" | tail -25 ;;
    bench)  # GEMM vs cuBLAS, row kernels vs copy bandwidth, MLP step vs PyTorch CUDA
      timeout 120 python3 bench/bench_gpu.py 2>&1 | tee "$OUT/bench.log" ;;
    suite)  # the whole suite, restricted to the GPU backends' parametrisations
      timeout "${SUITE_SECONDS:-180}" python3 -m pytest tests -v -p no:cacheprovider $XDIST \
        -k "cupy or cuda" >"$OUT/suite.log" 2>&1
      grep -E "FAILED|ERROR" "$OUT/suite.log" | head -40; tail -3 "$OUT/suite.log" ;;
  esac
  echo "$phase: $((SECONDS - start)) s"
done
