/**
 * The globals a `torch.save(state_dict)` pickle may name (the unpickler, pickle.ts, refuses any
 * other), each mapped to a JS function of ours, and the values they build:
 *   collections.OrderedDict                    → an ordered dict (BUILD may set attributes such as _metadata)
 *   torch._utils._rebuild_tensor_v2            → a TorchTensorRef (storage, offset, size, stride)
 *   torch._utils._rebuild_parameter            → its data (a state dict saved with keep_vars=True)
 *   torch.{Float,Half,BFloat16,Long}Storage    → storage types, only inside a persistent id
 * plus the check of a persistent id that names a storage (storageFromPid).
 */

export type StorageDtype = 'F32' | 'F16' | 'BF16' | 'I64';

export const STORAGE_TYPES: Record<string, StorageDtype> = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  LongStorage: 'I64',
};

/** A storage named by a persistent id: ('storage', torch.<T>Storage, key, location, numel). */
export interface StorageRef {
  kind: 'storage';
  key: string;
  dtype: StorageDtype;
  numel: number;
}

export interface TorchTensorRef {
  kind: 'tensor';
  storage: StorageRef;
  /** in elements */
  offset: number;
  shape: number[];
  stride: number[];
}

class StorageType {
  constructor(readonly name: string, readonly dtype: StorageDtype) {}
}

/** A pickled dict (plain or OrderedDict): insertion-ordered, keys as unpickled. */
export class PyDict extends Map<unknown, unknown> {
  attrs: Record<string, unknown> = {};
}

export type Callable = (args: unknown[]) => unknown;

const int = (v: unknown, what: string): number => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new Error(`${what} is not an integer`);
  return v;
};
const intTuple = (v: unknown, what: string): number[] => {
  if (!Array.isArray(v)) throw new Error(`${what} is not a tuple`);
  return v.map((x, i) => int(x, `${what}[${i}]`));
};

function rebuildTensor(args: unknown[]): TorchTensorRef {
  if (args.length < 6 || args.length > 7) throw new Error(`_rebuild_tensor_v2 takes 6 or 7 arguments, got ${args.length}`);
  const [storage, offset, size, stride, , hooks, metadata] = args;
  if (!storage || (storage as StorageRef).kind !== 'storage') throw new Error('_rebuild_tensor_v2: first argument is not a storage');
  if (hooks !== null && !(hooks instanceof PyDict && hooks.size === 0)) throw new Error('_rebuild_tensor_v2: tensor has backward hooks');
  if (metadata !== undefined && metadata !== null && !(metadata instanceof PyDict && metadata.size === 0)) throw new Error('_rebuild_tensor_v2: tensor has metadata');
  const shape = intTuple(size, 'size');
  const st = intTuple(stride, 'stride');
  if (st.length !== shape.length) throw new Error(`size ${JSON.stringify(shape)} and stride ${JSON.stringify(st)} differ in rank`);
  return { kind: 'tensor', storage: storage as StorageRef, offset: int(offset, 'storage offset'), shape, stride: st };
}

export const GLOBALS: Record<string, unknown> = {
  'collections.OrderedDict': ((args: unknown[]) => {
    if (args.length) throw new Error('OrderedDict(...) with arguments');
    return new PyDict();
  }) as Callable,
  'torch._utils._rebuild_tensor_v2': rebuildTensor as Callable,
  'torch._utils._rebuild_parameter': ((args: unknown[]) => {
    const t = args[0] as TorchTensorRef;
    if (!t || t.kind !== 'tensor') throw new Error('_rebuild_parameter: data is not a tensor');
    return t;
  }) as Callable,
  ...Object.fromEntries(Object.entries(STORAGE_TYPES).map(([n, d]) => [`torch.${n}`, new StorageType(n, d)])),
};

/** A persistent id → storage, checked (used by the checkpoint reader). */
export function storageFromPid(pid: unknown[]): StorageRef {
  const [tag, type, key, , numel] = pid;
  if (tag !== 'storage' || pid.length !== 5) throw new Error(`persistent id ${JSON.stringify(tag)} is not a storage`);
  if (!(type instanceof StorageType)) throw new Error('persistent id names no allowed storage type');
  if (typeof key !== 'string' || !/^[\w.-]+$/.test(key)) throw new Error(`storage key ${JSON.stringify(key)} is not a plain name`);
  return { kind: 'storage', key, dtype: type.dtype, numel: int(numel, 'storage size') };
}
