/**
 * `vision_config: {family: …}` cannot change the family of base_model: a preset's family is the one
 * base_model names (`preset:tiny` is CLIP, `preset:dinov2/tiny` DINOv2), and the builder used
 * base_model's whatever the override said — `preset:tiny` + `family: dinov2` trained and exported a
 * CLIPVisionModelWithProjection. A differing (or unknown) family is refused naming the file (or the
 * option) and vision_config.family; repeating base_model's family is accepted.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, tmpDir } from '../helpers.js';
import { LogolabError, UsageError } from '../../src/errors.js';
import { applyOverrides, loadConfigFile, parseConfig } from '../../training/config.js';
import { loadBaseModel } from '../../training/model.js';

function yamlFile(text: string): string {
  const p = join(tmpDir('logolab-family-'), 'train.yaml');
  writeFileSync(p, text);
  return p;
}

const clash = (family: string, base: string, baseFamily: string, name = 'tiny') =>
  `vision_config.family '${family}' differs from base_model '${base}' (a ${baseFamily} preset); a preset's family is named in base_model: preset:${family}/${name}`;

describe('vision_config.family and base_model preset:…', () => {
  it('a config file whose vision_config.family differs from its preset is refused, naming the file and the key', () => {
    for (const [base, family, baseFamily] of [
      ['preset:tiny', 'dinov2', 'clip'],
      ['preset:tiny', 'siglip', 'clip'],
      ['preset:dinov2/tiny', 'clip', 'dinov2'],
    ] as const) {
      const p = yamlFile(`base_model: "${base}"\nvision_config: { family: ${family}, image_size: 32 }\n`);
      assert.throws(
        () => loadConfigFile(p),
        (e: unknown) => e instanceof LogolabError && e.message === `config ${p}: ${clash(family, base, baseFamily)}`,
        `${base} + family ${family}`,
      );
    }
    const p = yamlFile('base_model: "preset:tiny"\nvision_config: { family: vit }\n');
    assert.throws(() => loadConfigFile(p), (e: unknown) => e instanceof LogolabError && e.message === `config ${p}: vision_config.family: must be one of clip, dinov2, siglip, got "vit"`);
    // repeating base_model's own family is no change
    assert.equal(loadConfigFile(yamlFile('base_model: "preset:dinov2/tiny"\nvision_config: { family: dinov2 }\n')).vision_config.family, 'dinov2');
    assert.equal(parseConfig({ base_model: 'preset:tiny', vision_config: { family: 'clip' } }, 't').vision_config.family, 'clip');
  });

  it('`logolab train` refuses it as one error line, exit 1, before writing anything', () => {
    const work = tmpDir('logolab-family-');
    const p = join(work, 'train.yaml');
    writeFileSync(p, `base_model: "preset:tiny"\nvision_config: { family: dinov2 }\ncheckpoint_dir: "${join(work, 'ck')}"\noutput_dir: "${join(work, 'out')}"\n`);
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/logolab.mjs'), 'train', '--backend', 'cpu', '--config', p], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr, `logolab: error: config ${p}: ${clash('dinov2', 'preset:tiny', 'clip')}\n`);
    assert.ok(!existsSync(join(work, 'ck')) && !existsSync(join(work, 'out')));
  });

  it('a command-line --base-model or --vision-config that makes them differ is a usage error naming the option', () => {
    const file = parseConfig({ base_model: 'preset:dinov2/tiny', vision_config: { family: 'dinov2' } }, 't');
    assert.throws(() => applyOverrides(file, { base_model: 'preset:tiny' }), (e: unknown) => e instanceof UsageError && e.message === `command line --base-model: ${clash('dinov2', 'preset:tiny', 'clip')}`);
    assert.throws(() => applyOverrides(file, { 'vision-config': '{"family":"siglip"}' }), (e: unknown) => e instanceof UsageError && e.message === `command line --vision-config: ${clash('siglip', 'preset:dinov2/tiny', 'dinov2')}`);
    // either spelling names the option; an option left unset (undefined) is not the one that clashed
    assert.throws(() => applyOverrides(file, { vision_config: undefined, 'base-model': 'preset:tiny' }), (e: unknown) => e instanceof UsageError && e.message === `command line --base-model: ${clash('dinov2', 'preset:tiny', 'clip')}`);
    assert.equal(applyOverrides(file, { base_model: 'preset:dinov2/vit-b16' }).config.base_model, 'preset:dinov2/vit-b16');
  });

  it('the model builder refuses it too (configs built without a file), and builds base_model’s family when they agree', async () => {
    const cfg = { seed: 0, preprocess_mode: 'default' as const };
    await assert.rejects(loadBaseModel({ ...cfg, base_model: 'preset:tiny', vision_config: { family: 'dinov2' } }), (e: unknown) => e instanceof LogolabError && e.message === clash('dinov2', 'preset:tiny', 'clip'));
    await assert.rejects(loadBaseModel({ ...cfg, base_model: 'preset:siglip/tiny', vision_config: {} }, { family: 'clip' }), (e: unknown) => e instanceof LogolabError && e.message === clash('clip', 'preset:siglip/tiny', 'siglip'));
    const m = await loadBaseModel({ ...cfg, base_model: 'preset:dinov2/tiny', vision_config: { family: 'dinov2', image_size: 28 } });
    try {
      assert.equal(m.family, 'dinov2');
      assert.equal(m.config.family, 'dinov2');
      assert.equal(m.config.image_size, 28);
    } finally {
      m.dispose();
    }
  });
});
