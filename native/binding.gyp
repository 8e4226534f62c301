{
  "variables": {
    # a directory holding cblas.h that the compiler does not search (Fedora/RHEL: /usr/include/openblas);
    # scripts/build-native.mjs passes it as --openblas_include=<dir>
    "openblas_include%": ""
  },
  "targets": [
    {
      "target_name": "logolab_native",
      "sources": ["src/binding.cc", "src/matmul.cc", "src/elementwise.cc", "src/layout.cc", "src/conv_gemm.cc", "src/conv.cc", "src/pool.cc", "src/memory.cc", "src/threadpool.cc", "src/blas_threads.cc"],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-exceptions", "-fno-trapping-math"],
      "cflags_cc!": ["-fno-rtti"],
      "defines": ["NAPI_DISABLE_CPP_EXCEPTIONS"],
      "libraries": ["-lopenblas"],
      "conditions": [
        ["openblas_include != ''", { "include_dirs": ["<(openblas_include)"] }]
      ]
    }
  ]
}
