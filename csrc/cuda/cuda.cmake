# Included from the top-level CMakeLists.txt when a CUDA compiler is present.
# The default must be set before enable_language(CUDA), which otherwise fills in nvcc's own
# default (sm_75 for nvcc 13). -DCMAKE_CUDA_ARCHITECTURES=... or $CUDAARCHS override it
# (e.g. "native" for a local build on the GPU machine).
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES AND NOT DEFINED ENV{CUDAARCHS})
  # Every real architecture is a full device compile of every kernel, so the list is short:
  # sm_80 SASS (A100; it also runs on every 8.x GPU: RTX 30xx/40xx, A10, L4, L40), sm_90 SASS
  # (H100/H200), and compute_90 PTX that the driver JIT-compiles once for newer GPUs
  # (Blackwell sm_100/sm_120). Turing (sm_75, the oldest nvcc 13 supports) would cost one more
  # full compile: build with -DCMAKE_CUDA_ARCHITECTURES=75 for a T4; on a GPU the build has no
  # code for, the cuda backend reports itself unavailable (device_check.cu).
  set(CMAKE_CUDA_ARCHITECTURES "80-real;90")
endif()
enable_language(CUDA)
find_package(CUDAToolkit REQUIRED)
set(CMAKE_CUDA_STANDARD 17)
set(CMAKE_CUDA_STANDARD_REQUIRED ON)
file(GLOB XPGRAD_CUDA_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/csrc/cuda/*.cu)
file(GLOB XPGRAD_CUDA_BINDINGS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/csrc/bindings/cuda_*.cpp)
pybind11_add_module(_cuda ${XPGRAD_CUDA_SOURCES} ${XPGRAD_CUDA_BINDINGS})
target_include_directories(_cuda PRIVATE ${PROJECT_SOURCE_DIR}/csrc/include)
target_link_libraries(_cuda PRIVATE CUDA::cudart_static)
# Device lambdas drive the elementwise kernels (for_each in common.cuh).
target_compile_options(_cuda PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:--extended-lambda>)
set_target_properties(_cuda PROPERTIES CUDA_SEPARABLE_COMPILATION OFF)
install(TARGETS _cuda LIBRARY DESTINATION xpgrad)
if(XPGRAD_INPLACE)
  add_custom_command(TARGET _cuda POST_BUILD COMMAND ${CMAKE_COMMAND} -E copy
    $<TARGET_FILE:_cuda> ${PROJECT_SOURCE_DIR}/python/xpgrad/)
endif()
