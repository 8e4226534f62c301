/**
 * Op codes passed to the addon, by name. The C++ side is native/src/op_codes.h (same names, same
 * values); test/backend/native-op-codes.test.ts checks that the two agree.
 */

/** binary(op, …): elementwise with broadcasting; the names are tfjs's kernel names. */
export enum BinaryOp { Add = 0, Sub = 1, Multiply = 2, RealDiv = 3, SquaredDifference = 4, Maximum = 5, Minimum = 6, Pow = 7 }

/** unary(op, …); all but Cube and QuickGelu are also tfjs kernel names. */
export enum UnaryOp { Sigmoid = 0, Exp = 1, Erf = 2, Tanh = 3, Rsqrt = 4, Square = 5, Sqrt = 6, Neg = 7, Relu = 8, Log = 9, Abs = 10, Cube = 11, QuickGelu = 12, Floor = 13 }

/** Fused activations of matmul and fusedConv2d. */
export enum Activation { Linear = 0, Relu = 1, Relu6 = 2, Prelu = 3, LeakyRelu = 4, Sigmoid = 5, Elu = 6 }

/** pool2d(…, kind) */
export enum PoolKind { Max = 0, Avg = 1 }

/** tfjs's fused-activation names → Activation. */
export const ACTIVATIONS: Readonly<Record<string, Activation>> = {
  linear: Activation.Linear, relu: Activation.Relu, relu6: Activation.Relu6, prelu: Activation.Prelu,
  leakyrelu: Activation.LeakyRelu, sigmoid: Activation.Sigmoid, elu: Activation.Elu,
};

/** The tfjs binary kernels served by binary(op). */
export const BINARY_KERNELS = ['Add', 'Sub', 'Multiply', 'RealDiv', 'SquaredDifference', 'Maximum', 'Minimum', 'Pow'] as const satisfies readonly (keyof typeof BinaryOp)[];
/** The tfjs unary kernels served by unary(op). */
export const UNARY_KERNELS = ['Sigmoid', 'Exp', 'Erf', 'Tanh', 'Rsqrt', 'Square', 'Sqrt', 'Neg', 'Relu', 'Log', 'Abs', 'Floor'] as const satisfies readonly (keyof typeof UnaryOp)[];

/** name → value of a numeric TypeScript enum (for the C++ agreement test). */
export function enumEntries(e: Record<string, string | number>): [string, number][] {
  return Object.entries(e).filter((kv): kv is [string, number] => typeof kv[1] === 'number');
}
