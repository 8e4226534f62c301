import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, tmpDir } from '../helpers.js';
import { LogolabError, UsageError } from '../../src/errors.js';
import {
  CONFIG_KEYS,
  TrainingConfigSchema,
  applyOverrides,
  configHelp,
  defaultConfig,
  loadConfigFile,
  parseConfig,
  totalSteps,
} from '../../training/config.js';
import { mixedPrecisionNote, validateConfig } from '../../training/config-checks.js';

/** Every field and default of the reference's TrainingConfig dataclass (training/config.py). */
const REFERENCE_DEFAULTS: Record<string, unknown> = {
  base_model: 'openai/clip-vit-large-patch14', dataset_dir: 'LogoDet-3K', reference_dir: 'reference_logos', db_path: 'test_data_mapping.db',
  split_level: 'logo', train_split: 0.7, val_split: 0.15, test_split: 0.15, batch_size: 16, logos_per_batch: 32, samples_per_logo: 4,
  gradient_accumulation_steps: 8, num_workers: 4, lora_r: 16, lora_alpha: 32, lora_dropout: 0.1, freeze_layers: 12,
  use_gradient_checkpointing: true, learning_rate: 1e-5, weight_decay: 0.01, warmup_steps: 500, max_epochs: 20, mixed_precision: true,
  temperature: 0.07, loss_type: 'infonce', triplet_margin: 0.3, patience: 5, min_delta: 0.001, checkpoint_dir: 'checkpoints',
  output_dir: 'models/logo_detection/clip_finetuned', save_every_n_epochs: 5, log_every_n_steps: 10, eval_every_n_epochs: 1, seed: 42,
  use_hard_negatives: false, hard_negative_start_epoch: 5, hard_negatives_per_logo: 10, use_augmentation: true, augmentation_strength: 'medium',
};

function yamlFile(text: string): string {
  const p = join(tmpDir(), 'c.yaml');
  writeFileSync(p, text);
  return p;
}

describe('training config', () => {
  it('has every field of the reference TrainingConfig with its default', () => {
    const d = defaultConfig() as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(REFERENCE_DEFAULTS)) assert.deepEqual(d[k], v, k);
    for (const k of Object.keys(REFERENCE_DEFAULTS)) assert.ok(CONFIG_KEYS.includes(k as never), k);
  });

  it('loads every shipped config (the reference ones keep their values)', () => {
    const files = readdirSync(join(ROOT, 'configs')).filter((f) => f.endsWith('.yaml'));
    for (const want of ['jetson_orin.yaml', 'cloud_rtx4090.yaml', 'cloud_a100.yaml', 'image_level_splits.yaml', 'tiny_cpu.yaml']) assert.ok(files.includes(want), want);
    for (const f of files) {
      const c = loadConfigFile(join(ROOT, 'configs', f));
      validateConfig(c);
    }
    const img = loadConfigFile(join(ROOT, 'configs/image_level_splits.yaml'));
    assert.equal(img.split_level, 'image');
    assert.equal(img.learning_rate, 5e-6);
    assert.equal(img.temperature, 0.15);
    assert.equal(img.max_epochs, 30);
    assert.equal(img.patience, 7);
    const a100 = loadConfigFile(join(ROOT, 'configs/cloud_a100.yaml'));
    assert.equal(a100.batch_size, 64);
    assert.equal(a100.gradient_accumulation_steps, 2);
    assert.equal(a100.use_gradient_checkpointing, false);
    assert.equal(a100.save_every_n_epochs, 2);
  });

  it('unknown keys and wrong types are errors naming the key', () => {
    const bad = (text: string, re: RegExp) => assert.throws(() => loadConfigFile(yamlFile(text)), (e: unknown) => e instanceof LogolabError && re.test(e.message) && !e.message.includes('\n'));
    bad('learning_rat: 1e-5\n', /unknown key 'learning_rat'/);
    bad('learning_rate: fast\n', /key 'learning_rate' must be a number, got "fast"/);
    bad('max_epochs: 2.5\n', /key 'max_epochs' must be an integer/);
    bad('loss_type: hinge\n', /key 'loss_type' must be one of infonce\|milnce\|supcon\|triplet\|combined/);
    bad('use_augmentation: "yes"\n', /key 'use_augmentation' must be true or false/);
    bad('temperature: 0\n', /key 'temperature' must be ≥ 0\.0001/);
    // cosine / 1e-9 swamps the losses' −1e9 masks (a silently wrong loss); 1e-40 overflows to Inf (NaN)
    bad('temperature: 1.0e-9\n', /key 'temperature' must be ≥ 0\.0001, got 1e-9/);
    bad('freeze_layers: -1\n', /key 'freeze_layers' must be ≥ 0/);
    bad('- a\n- b\n', /expected a mapping/);
    bad('a: [\n', /invalid YAML/);
    assert.throws(() => loadConfigFile('/nonexistent/x.yaml'), /config \/nonexistent\/x.yaml: cannot read/);
  });

  it('CLI overrides (kebab-case, strings coerced) and their errors', () => {
    const { config, applied } = applyOverrides(defaultConfig(), { 'learning-rate': '5e-6', max_epochs: '30', 'use-augmentation': 'false', loss_type: 'supcon' });
    assert.equal(config.learning_rate, 5e-6);
    assert.equal(config.max_epochs, 30);
    assert.equal(config.use_augmentation, false);
    assert.equal(config.loss_type, 'supcon');
    assert.equal(applied.length, 4);
    assert.throws(() => applyOverrides(defaultConfig(), { 'max-epochs': 'many' }), /--max-epochs: key 'max_epochs' must be an integer/);
    assert.throws(() => applyOverrides(defaultConfig(), { 'max-epoch': 3 }), /unknown key 'max_epoch'/);
  });

  it('the schema is the one source: defaults are fresh copies, --help text names default and choices', () => {
    const a = defaultConfig();
    a.lora_target_modules.push('k_proj');
    a.vision_config.image_size = 64;
    assert.deepEqual(defaultConfig().lora_target_modules, ['q_proj', 'v_proj']);
    assert.deepEqual(defaultConfig().vision_config, {});
    assert.deepEqual(CONFIG_KEYS, Object.keys(TrainingConfigSchema.shape));
    assert.equal(configHelp('loss_type'), 'loss (milnce: any one positive suffices) (default "infonce"; one of infonce|milnce|supcon|triplet|combined)');
    assert.equal(configHelp('max_epochs'), 'epochs (default 20)');
    assert.throws(() => parseConfig({ lora_target_modules: ['q_proj', 3] }, 't'), /key 'lora_target_modules' must be a list of strings, got \["q_proj",3\]/);
    assert.throws(() => parseConfig({ vision_config: [1] }, 't'), /key 'vision_config' must be a mapping/);
    assert.throws(() => parseConfig({ adam_beta1: 1 }, 't'), /key 'adam_beta1' must be ≤ 0.999999, got 1/);
    assert.throws(() => parseConfig({ seed: null }, 't'), /key 'seed' must be an integer, got null/);
    assert.deepEqual(applyOverrides(defaultConfig(), { 'lora-target-modules': 'q_proj, k_proj', vision_config: '{"image_size":64}' }).config.lora_target_modules, ['q_proj', 'k_proj']);
  });

  it("the reference's validation warnings", () => {
    const c = parseConfig({ train_split: 0.8, val_split: 0.15, test_split: 0.15, logos_per_batch: 4, samples_per_logo: 2, gradient_accumulation_steps: 2, lora_r: 16, lora_alpha: 8, temperature: 2 }, 't');
    const w = validateConfig(c).join('\n');
    assert.match(w, /Split ratios sum to 1.1, expected 1.0/);
    assert.match(w, /Effective batch size \(16\) is small/);
    assert.match(w, /lora_alpha \(8\) < lora_r \(16\)/);
    assert.match(w, /temperature \(2\) is high/);
    assert.equal(validateConfig(defaultConfig()).length, 0);
    assert.match(mixedPrecisionNote(defaultConfig())!, /float32/);
    assert.equal(totalSteps(defaultConfig()), 125 * 20);
    assert.throws(() => validateConfig(parseConfig({ batches_per_epoch: 4, gradient_accumulation_steps: 8 }, 't')), /no optimizer step/);
  });

  it('a typo under vision_config: or image_processor: names the file and the dotted key, like a top-level one', () => {
    const p = yamlFile('base_model: preset:tiny\nvision_config:\n  hiden_size: 64\n');
    const esc = p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    assert.throws(() => loadConfigFile(p), (e: unknown) => e instanceof LogolabError && new RegExp(`^config ${esc}: unknown key 'vision_config\\.hiden_size' \\(did you mean 'vision_config\\.hidden_size'\\?\\)$`).test(e.message));
    assert.throws(() => loadConfigFile(yamlFile('image_processor:\n  do_centre_crop: false\n')), /: unknown key 'image_processor\.do_centre_crop' \(did you mean 'image_processor\.do_center_crop'\?\)$/);
    // the keys the model builder accepts are accepted here (their values are checked there)
    const ok = parseConfig({ vision_config: { image_size: 64, hidden_size: 32, use_swiglu_ffn: false }, image_processor: { do_center_crop: false, size: { height: 64, width: 64 }, use_fast: true } }, 't');
    assert.equal(ok.vision_config.image_size, 64);
    // a JSON override on the command line: a usage error naming the option and the dotted key
    assert.throws(() => applyOverrides(defaultConfig(), { 'vision-config': '{"hiden_size":1}' }), (e: unknown) => e instanceof UsageError && e.message === "command line --vision-config: unknown key 'vision_config.hiden_size' (did you mean 'vision_config.hidden_size'?)");
  });

  it('`logolab train` reports a nested config typo before the backend starts, as one line, exit 1', () => {
    const p = yamlFile('base_model: preset:tiny\nvision_config:\n  hiden_size: 64\n');
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/logolab.mjs'), 'train', '--backend', 'cpu', '--config', p], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.equal(r.stderr, `logolab: error: config ${p}: unknown key 'vision_config.hiden_size' (did you mean 'vision_config.hidden_size'?)\n`);
  });

  it('`logolab train` reports a bad config key as a one-line error and exits 1', () => {
    const p = yamlFile('base_model: preset:tiny\nlearning_rat: 1e-5\n');
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/logolab.mjs'), 'train', '--backend', 'cpu', '--config', p], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`logolab: error: config ${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: unknown key 'learning_rat' \\(did you mean 'learning_rate'\\?\\)`));
  });
});
