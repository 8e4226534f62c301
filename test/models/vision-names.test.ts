/**
 * One source for module names: every family's namedTensors() lists exactly its key map's canonical
 * names (tower tensors in key-map order; the names a converted folder is written under and the fingerprint hashes),
 * and each layer's peft module paths are the key map's linear modules of that layer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FAMILIES, buildVisionModel } from '../../src/models/vision/index.js';
import type { VisionConfig, VisionFamily } from '../../src/models/vision/config.js';
import { useBackend } from '../helpers.js';

const CASES: [VisionFamily, 'tiny' | Partial<VisionConfig>][] = [
  ['clip', 'tiny'], ['dinov2', 'tiny'], ['siglip', 'tiny'],
  ['dinov2', { image_size: 28, patch_size: 14, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 24, use_swiglu_ffn: true, qkv_bias: false }],
];

test('vision: named tensors and peft module paths derive from the key map', async () => {
  await useBackend('cpu');
  for (const [family, cfg] of CASES) {
    const m = buildVisionModel(family, cfg, 'random', 1);
    try {
      const fam = FAMILIES[family];
      const entries = fam.keyMap(m.config, fam.canonicalLayout(m.config));
      const named = m.namedTensors().map(([n]) => n);
      assert.deepEqual([...named].sort(), entries.map((e) => e.name).sort(), `${family}: the key map's names`);
      // outside the layers, the key map's order (inside a layer, EncoderLayer.named()'s)
      const outside = (ns: string[]) => ns.filter((n) => !/^encoder\.layers?\./.test(n));
      assert.deepEqual(outside(named), outside(entries.map((e) => e.name)), `${family}: tower tensors in key-map order`);
      const weights = new Set(entries.filter((e) => e.transform === 'linear').map((e) => e.name.replace(/\.weight$/, '')));
      for (const l of m.layers) {
        for (const path of Object.keys(l.hfModules)) assert.ok(weights.has(path), `${family}: layer ${l.index} module ${path} is a key-map linear`);
      }
    } finally {
      m.dispose();
    }
  }
});
