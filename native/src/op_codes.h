// Op codes shared by the N-API binding and src/backend/native/op-codes.ts (the TypeScript side uses
// the same names and values; test/backend/native-op-codes.test.ts checks that the two agree).
#pragma once
#include <cstdint>

namespace llk {

// binary(op, ...): out = a ∘ b with broadcasting strides
enum class BinaryOp : int32_t { Add = 0, Sub = 1, Multiply = 2, RealDiv = 3, SquaredDifference = 4, Maximum = 5, Minimum = 6, Pow = 7 };

// unary(op, ...): computed as the stock tfjs kernels do (see elementwise.cc)
enum class UnaryOp : int32_t {
  Sigmoid = 0, Exp = 1, Erf = 2, Tanh = 3, Rsqrt = 4, Square = 5, Sqrt = 6, Neg = 7, Relu = 8, Log = 9, Abs = 10, Cube = 11,
  QuickGelu = 12, Floor = 13
};

// fused activations of matmul and fusedConv2d (tfjs's names: linear, relu, relu6, prelu, leakyrelu, sigmoid, elu)
enum class Activation : int32_t { Linear = 0, Relu = 1, Relu6 = 2, Prelu = 3, LeakyRelu = 4, Sigmoid = 5, Elu = 6 };

// pool2d(..., kind)
enum class PoolKind : int32_t { Max = 0, Avg = 1 };

}  // namespace llk
