/**
 * Where `doctor --selftest` finds its reference fixtures: the repository's test/fixtures, which
 * ship with the package (package.json's `files` lists them; test/selftest/selftest.test.ts checks
 * that `npm pack` includes every file below), found relative to this module so an installed
 * package finds its own copy; `--fixtures DIR` points at another folder of the same layout
 * (e.g. held-out checkpoints).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packagePath } from '../util/package-root.js';
import { LogolabError } from '../errors.js';

export const PACKAGE_FIXTURES = packagePath('test', 'fixtures');

/** Every file the selftest reads, relative to the fixtures folder. */
export const SELFTEST_FILES = [
  'clip_tiny/model/config.json', 'clip_tiny/model/model.safetensors', 'clip_tiny/io.safetensors',
  'dinov2_tiny/model/config.json', 'dinov2_tiny/model/model.safetensors', 'dinov2_tiny/io.safetensors',
  'siglip_tiny/model/config.json', 'siglip_tiny/model/model.safetensors', 'siglip_tiny/io.safetensors',
  'detr_tiny/model/config.json', 'detr_tiny/model/model.safetensors', 'detr_tiny/io.safetensors',
  'lora/adapter/adapter_config.json', 'lora/adapter/adapter_model.safetensors', 'lora/io.safetensors', 'lora/values.json',
  'losses/io.safetensors', 'losses/values.json',
] as const;

export function locateFixtures(dir?: string): string {
  const root = dir ?? PACKAGE_FIXTURES;
  const missing = SELFTEST_FILES.filter((f) => !existsSync(join(root, f)));
  if (missing.length) {
    throw new LogolabError(`--fixtures: ${join(root, missing[0]!)} not found${missing.length > 1 ? ` (and ${missing.length - 1} more)` : ''}; ` +
      `the selftest needs the reference fixtures (test/fixtures of the logolab package or repository)`);
  }
  return root;
}
