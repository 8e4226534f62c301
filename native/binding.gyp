{
  "targets": [
    {
      "target_name": "logolab_native",
      "sources": ["src/logolab_native.cc", "src/memory.cc", "src/threadpool.cc", "src/conv.cc", "src/pool.cc"],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-exceptions", "-fno-trapping-math"],
      "cflags_cc!": ["-fno-rtti"],
      "defines": ["NAPI_DISABLE_CPP_EXCEPTIONS"],
      "libraries": ["-lopenblas"]
    }
  ]
}
