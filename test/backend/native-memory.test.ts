import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../helpers.js';
import { nativeKernelsInstalled, nativeMallocInfo } from '../../src/backend/native.js';

test('native: large tensor buffers come from the malloc heap (reused), not one mmap per tensor', async (t) => {
  await useBackend('cpu');
  if (!nativeKernelsInstalled()) return t.skip('native addon not built');
  const a = tf.ones([3, 1024, 4096]); // 48 MiB, above glibc's largest mmap threshold (32 MiB)
  try {
    const before = nativeMallocInfo()!;
    const outs: tf.Tensor[] = [];
    for (let i = 0; i < 3; i++) outs.push(tf.add(a, 1));
    const held = nativeMallocInfo()!;
    // with glibc's defaults each 48 MiB output is its own mapping (mmapped grows by 3 × 48 MiB)
    assert.ok(held.mmapped - before.mmapped < 16 * 2 ** 20, `mmapped grew by ${(held.mmapped - before.mmapped) / 2 ** 20} MiB`);
    assert.equal(outs[2]!.dataSync()[4096 * 1024 * 3 - 1], 2);
    tf.dispose(outs);
  } finally {
    a.dispose();
  }
});
