/**
 * safetensors reader and writer (https://github.com/huggingface/safetensors format):
 *   [u64 little-endian header length N][N bytes JSON header][raw tensor bytes]
 * The header maps tensor name → {dtype, shape, data_offsets: [begin, end]} (offsets relative to
 * the end of the header), plus an optional "__metadata__" string map.
 *
 * One file per role: the dtypes and tensor records (safetensors-types.ts), the header parser
 * (safetensors-header.ts), the on-demand reader (safetensors-reader.ts), single and sharded
 * checkpoints (tensor-store.ts) and the writer (safetensors-writer.ts). This module is their entry.
 */
export { numel, rewriteDtype, type HostTensor, type StDtype, type TensorInfo, type WriteDtype } from './safetensors-types.js';
export { SafetensorsFile, readSafetensors } from './safetensors-reader.js';
export { TensorStore, openTensorStore, type TensorFile } from './tensor-store.js';
export { writeSafetensors, type WriteTensor } from './safetensors-writer.js';
