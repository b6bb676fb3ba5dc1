"""The kernels' thread pool (csrc/cpu/thread_pool.cpp), exercised through pool kernels
(softmax, tanh): concurrent callers, the thread limit, fork safety."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest
from kernel_helpers import (
    ADDRESS_SPACE_LIMIT,
    assert_close,
    cpu,
    needs_address_space_limit,
    ref,
    rng,
    run_python,
)


def test_concurrent_calls_from_python_threads():
    """Kernels release the GIL; a call made while the pool is busy runs in its own thread."""
    from concurrent.futures import ThreadPoolExecutor

    xs = [rng(i).standard_normal((64, 3000)).astype(np.float32) for i in range(8)]
    want = [ref.softmax(x) for x in xs]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(cpu.softmax, xs * 3))
    for i, y in enumerate(got):
        assert_close(y, want[i % 8], np.float32)


def test_pool_thread_count_can_be_lowered_and_restored():
    k = cpu.kernels
    before = k.pool_threads()
    x = rng(1).standard_normal((256, 1000)).astype(np.float32)
    try:
        assert k.set_pool_threads(1) == 1
        serial = cpu.softmax(x)
    finally:
        assert k.set_pool_threads(before) == before
    np.testing.assert_array_equal(serial, cpu.softmax(x))  # rows are independent: same bits


def test_pool_thread_count_below_one_is_rejected():
    k = cpu.kernels
    before = k.pool_threads()
    for n in (0, -1, -2**31):  # each silently meant 1
        with pytest.raises(ValueError, match=f"n must be >= 1, got {n}"):
            k.set_pool_threads(n)
        assert k.pool_threads() == before
    with pytest.raises(TypeError):  # beyond C int: pybind11 refuses the conversion
        k.set_pool_threads(2**31)
    try:
        assert k.set_pool_threads(10**9) == k.pool_threads() >= before  # capped at the pool size, not an error
    finally:
        k.set_pool_threads(before)


def _exit_code_in_a_forked_child(check, timeout=60.0) -> int:
    """Run check() in a forked child; its exit code (0: True), or fail if it has not ended
    within ``timeout`` seconds (a hang, killed)."""
    pid = os.fork()
    if pid == 0:
        try:
            os._exit(0 if check() else 3)
        finally:
            os._exit(4)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    pytest.fail(f"the forked child hung for {timeout} s")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_kernels_work_in_a_forked_child():
    x = rng(2).standard_normal((512, 1000)).astype(np.float32)
    want = cpu.softmax(x)  # the pool exists before the fork
    assert _exit_code_in_a_forked_child(lambda: np.array_equal(cpu.softmax(x), want)) == 0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_gemm_works_in_a_forked_child_after_threaded_products():
    # libgomp's threads do not survive fork(): the child's first parallel region used to wait
    # for them forever. After a fork the GEMM runs on the calling thread.
    a, b = rng(3).random((300, 400), np.float32), rng(4).random((400, 300), np.float32)
    deep_a, deep_b = rng(5).random((10, 70000), np.float32), rng(6).random((70000, 10), np.float32)
    bias = rng(7).random(300, np.float32)
    want = [cpu.kernels.gemm(a, b), cpu.kernels.linear(a, b, bias, "relu"), cpu.kernels.gemm(deep_a, deep_b)]

    def same_in_child():
        got = [cpu.kernels.gemm(a, b), cpu.kernels.linear(a, b, bias, "relu"), cpu.kernels.gemm(deep_a, deep_b)]
        return all(np.allclose(g, w, rtol=1e-5, atol=1e-3) for g, w in zip(got, want))

    assert _exit_code_in_a_forked_child(same_in_child) == 0


def _other_threads_cpu_ticks() -> int:
    """CPU time (clock ticks) spent so far by this process's threads other than the caller."""
    me, total = threading.get_native_id(), 0
    for tid in os.listdir("/proc/self/task"):
        if int(tid) != me:
            try:
                with open(f"/proc/self/task/{tid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except FileNotFoundError:  # the thread ended meanwhile
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux /proc")
def test_lowered_thread_count_keeps_the_workers_idle():
    """set_pool_threads(1) runs pool kernels on the caller alone; restored, the workers join in."""
    k = cpu.kernels
    before = k.pool_threads()
    if before < 2:
        pytest.skip("the pool has one thread")
    x = rng(3).standard_normal(4_000_000).astype(np.float32)

    def worker_ticks_during(calls):
        start = _other_threads_cpu_ticks()
        for _ in range(calls):
            k.tanh_forward(x)
        return _other_threads_cpu_ticks() - start

    try:
        k.set_pool_threads(1)
        serial = worker_ticks_during(100)
    finally:
        k.set_pool_threads(before)
    parallel = worker_ticks_during(100)
    assert serial <= 1, f"workers ran {serial} ticks with the pool limited to one thread"
    assert parallel > 1, "the workers never ran: the measurement would not see them"


@pytest.mark.skipif(not hasattr(os, "fork") or sys.platform != "linux", reason="needs Linux rlimits")
def test_pool_runs_with_the_threads_the_system_lets_it_start():
    # 256 threads' stacks (the cap, see test_a_huge_thread_count_is_capped) do not fit in 1.5 GiB
    # of address space: the pool used to deadlock in its constructor when starting one failed;
    # now it runs with those that started.
    import resource

    import xpgrad

    def limit_address_space():
        resource.setrlimit(resource.RLIMIT_AS, (3 << 29, 3 << 29))

    # The started threads' stacks take what address space is left: the kernel after it may find
    # no memory for its output, which is not what this checks.
    code = textwrap.dedent("""
        import numpy as np, xpgrad._C as C
        x = np.ones((2, 4), np.float32)
        print(C.pool_threads(), flush=True)  # the pool starts here
        try:
            print(bool(np.allclose(C.softmax_forward(x), 0.25)))
        except MemoryError:
            print("no memory left")
    """)
    env = dict(os.environ, XPGRAD_NUM_THREADS="2000",
               PYTHONPATH=os.path.dirname(os.path.dirname(xpgrad.__file__)))
    result = subprocess.run([sys.executable, "-c", code], env=env, preexec_fn=limit_address_space,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    threads, kernel = result.stdout.split("\n")[:2]
    assert 1 <= int(threads) < 2000 and kernel in ("True", "no memory left")


def test_a_huge_thread_count_is_capped():
    """XPGRAD_NUM_THREADS=100000 started ~32000 pool threads, then libgomp ended the process
    (exit 1) when the GEMM asked OpenMP for as many more; the count is capped at 4 per core
    (256 at least), and values that are not whole numbers are ignored."""
    code = """
        import os, numpy as np, xpgrad._C as C
        a = np.ones((600, 600), np.float32)
        assert np.allclose(C.gemm(a, a), 600)
        print(C.pool_threads(), max(256, 4 * os.cpu_count()))
    """
    result = run_python(code, XPGRAD_NUM_THREADS="100000")
    assert result.returncode == 0, result.stderr
    threads, cap = map(int, result.stdout.split())
    assert 1 <= threads <= cap
    result = run_python("import xpgrad._C as C; print(C.pool_threads())", XPGRAD_NUM_THREADS="3x",
                           OMP_NUM_THREADS="2")
    assert result.stdout.split() == ["2"], result.stderr


@pytest.mark.parametrize("omp_setting", [{"OMP_DYNAMIC": "true"}, {"OMP_THREAD_LIMIT": "1"}])
def test_split_k_gemm_is_right_when_openmp_starts_fewer_threads(omp_setting):
    """The K-split GEMM (small C, K ≥ 4096: weight gradients of conv layers) gave each thread
    its range by omp_get_thread_num(): with a smaller team, some ranges were never computed and
    their uninitialised buffers were added into C (NaN, or errors of 1e10)."""
    code = """
        import numpy as np, xpgrad._C as C
        rng = np.random.default_rng(0)
        a = rng.standard_normal((64, 8192)).astype(np.float32)
        b = rng.standard_normal((8192, 64)).astype(np.float32)
        x = rng.standard_normal((8192, 32)).astype(np.float32)
        gy = rng.standard_normal((8192, 16)).astype(np.float32)
        w = np.ones((32, 16), np.float32)
        gw = C.linear_backward(x, w, None, gy, "identity", False, False)[1]
        print(np.abs(C.gemm(a, b) - a.astype(np.float64) @ b).max(), np.abs(gw - x.T.astype(np.float64) @ gy).max())
    """
    result = run_python(code, XPGRAD_NUM_THREADS="2", **omp_setting)
    assert result.returncode == 0, result.stderr
    assert all(float(v) < 1e-2 for v in result.stdout.split()), result.stdout


@needs_address_space_limit
def test_an_exception_in_a_chunk_is_raised_in_the_caller_after_the_whole_job():
    """A chunk that threw ended the process: std::terminate when it ran on a worker, a segfault
    when the caller's own chunk threw and run() returned while workers still ran the job on its
    stack frame. Here sparsemax's per-thread scratch rows do not fit under an address-space
    limit that leaves room for the output only: MemoryError, then the pool works on."""
    code = """
        import time, numpy as np, xpgrad._C as C
        x = np.ones((4, 1 << 22), np.float32)  # 16 MiB rows: four chunks on two threads
        C.pool_threads()  # the workers start before the limit
        limit_address_space(x.nbytes + (8 << 20))
        try:
            C.sparsemax_forward(x)
            print("returned")
        except MemoryError:
            print("MemoryError")
        time.sleep(0.2)  # a worker still on the job would now hit the limit too
        lift_address_space_limit()
        print(bool(np.allclose(C.sparsemax_forward(np.ones((4, 8), np.float32)), 0.125)))
    """
    result = run_python(ADDRESS_SPACE_LIMIT, code, XPGRAD_NUM_THREADS="2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["MemoryError", "True"], result.stdout
