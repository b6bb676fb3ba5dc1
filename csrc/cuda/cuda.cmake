# Included from the top-level CMakeLists.txt when a CUDA compiler is present.
enable_language(CUDA)
find_package(CUDAToolkit REQUIRED)
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES OR CMAKE_CUDA_ARCHITECTURES STREQUAL "52")
  # Ampere, Ada, Hopper as binaries, plus PTX for newer GPUs (JIT-compiled by the driver).
  set(CMAKE_CUDA_ARCHITECTURES "80-real;89-real;90")
endif()
file(GLOB XPGRAD_CUDA_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/csrc/cuda/*.cu)
pybind11_add_module(_cuda ${XPGRAD_CUDA_SOURCES} ${PROJECT_SOURCE_DIR}/csrc/bindings/cuda_module.cpp)
target_include_directories(_cuda PRIVATE ${PROJECT_SOURCE_DIR}/csrc/include)
target_link_libraries(_cuda PRIVATE CUDA::cudart_static)
set_target_properties(_cuda PROPERTIES CUDA_SEPARABLE_COMPILATION OFF)
install(TARGETS _cuda LIBRARY DESTINATION xpgrad)
if(XPGRAD_INPLACE)
  add_custom_command(TARGET _cuda POST_BUILD COMMAND ${CMAKE_COMMAND} -E copy
    $<TARGET_FILE:_cuda> ${PROJECT_SOURCE_DIR}/python/xpgrad/)
endif()
