/**
 * Option forms yargs accepts without a word but that were silently misread (cli/option-forms.ts):
 * a string option given twice (an array: internal TypeErrors, `--counting` read as another mode),
 * a string option without its value ('' dropped by truthiness tests), a switch given a value other
 * than true/false (`--skip-export=yes` exported) or given twice. Also: outputs that would replace an
 * input (detect --out, detect --visualize through a symlink), train configs (empty file, hex numbers,
 * NaN named), synth --list-brands with scene options, a bad --contact-sheet before the rendering.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { FIXTURES, tmpDir } from '../helpers.js';
import { loadConfigFile, applyOverrides, defaultConfig } from '../../training/config.js';
import { legacySplitRefusal } from '../../training/run-paths.js';
import { makeTinyDataDir } from '../eval/tinydata.js';
import { expectFailure, runCli } from './run.js';

let d = '';
before(() => {
  d = tmpDir();
});
after(() => rmSync(d, { recursive: true, force: true }));

describe('string options', () => {
  it('given twice: one usage line naming the flag, before any work (paths, choices, globals)', async () => {
    for (const args of [
      ['eval', '--data', join(d, 'x'), '--data', join(d, 'y')],
      ['eval', '--data', join(d, 'x'), '--json', join(d, 'a.json'), '--json', join(d, 'b.json')],
      ['eval', '--data', join(d, 'x'), '--counting', 'detections', '--counting', 'detections'],
      ['eval', '--data', join(d, 'x'), '--backend', 'cpu', '--backend', 'cpu'],
      ['doctor', '--log-level', 'debug', '--log-level', 'debug'],
      ['train', '--config', join(d, 'a.yaml'), '--config', join(d, 'b.yaml')],
      ['compare', '--report', join(d, 'r1'), '--report', join(d, 'r2')],
    ]) {
      const flag = args[args.length - 2]!;
      expectFailure(await runCli(args), 2, new RegExp(`^logolab: usage error: ${flag}: given more than once \\('`));
    }
  });

  it("given without a value (''): 'needs a value', not the default", async () => {
    expectFailure(await runCli(['train', '--config', '']), 2, /--config: needs a value/);
    expectFailure(await runCli(['train', '--config', join(d, 'a.yaml'), '--resume', '']), 2, /--resume: needs a value/);
    expectFailure(await runCli(['detect', join(FIXTURES, 'images', 'small_40x23.png'), '--out', '']), 2, /--out: needs a value/);
    expectFailure(await runCli(['detect', join(FIXTURES, 'images', 'small_40x23.png'), '--visualize', '']), 2, /--visualize: needs a value/);
    expectFailure(await runCli(['eval', '--data', join(d, 'x'), '--calibrate', '']), 2, /--calibrate: needs a value/);
    expectFailure(await runCli(['convert', '']), 2, /<hf-dir>: needs a value/);
  });
});

describe('switches', () => {
  it('a value other than true/false is refused; =true and =false still work', async () => {
    expectFailure(await runCli(['train', '--skip-export=yes']), 2, /--skip-export: a switch takes no value \(or =true \/ =false\), got 'yes'/);
    expectFailure(await runCli(['train', '--use-augmentation=1']), 2, /--use-augmentation: .* got '1'/);
    expectFailure(await runCli(['embed', '--skipBad=maybe', 'x.png']), 2, /--skip-bad: .* got 'maybe'/);
    // =false is a value the switch reads: the command goes on to its own checks (here: no --out)
    const r = await runCli(['synth', '--list-brands=false']);
    expectFailure(r, 1, /--out is required/);
  });

  it('given with contradicting values (--x with --no-x) is refused naming both forms; the same twice is not', async () => {
    expectFailure(await runCli(['train', '--use-augmentation', '--no-use-augmentation']), 2, /--use-augmentation: given with contradicting values \(--use-augmentation, --no-use-augmentation\)/);
    expectFailure(await runCli(['demo', '--quick', '--quick=false']), 2, /--quick: given with contradicting values/);
    // the same meaning twice is harmless (argument lists built by appending)
    expectFailure(await runCli(['demo', '--quick', '--quick', '--mode', 'tiny']), 2, /--quick and --mode tiny/);
  });

  it('demo --quick with another --mode is refused (it used to run --mode silently)', async () => {
    expectFailure(await runCli(['demo', '--quick', '--mode', 'tiny', '--out', join(d, 'demo')]), 2, /--quick and --mode tiny: two different modes/);
    assert.ok(!existsSync(join(d, 'demo')));
  });
});

describe('outputs never replace inputs', () => {
  const detr = join(FIXTURES, 'detr_tiny', 'model');

  it('detect --out naming an input image (directly or through a symlink) is refused; the image is intact', async () => {
    const img = join(d, 'photo.png');
    copyFileSync(join(FIXTURES, 'images', 'small_40x23.png'), img);
    const before = readFileSync(img);
    symlinkSync(img, join(d, 'link.png'));
    expectFailure(await runCli(['detect', img, '--detector', detr, '--out', img]), 1, /--out .*photo\.png: is the input image .*photo\.png; refusing to replace it/);
    expectFailure(await runCli(['detect', join(d, 'link.png'), '--detector', detr, '--out', img]), 1, /is the input image .*link\.png/);
    assert.deepEqual(readFileSync(img), before);
  });

  it('detect --visualize --overwrite on the folder that holds an input given through a symlink is refused', async () => {
    const photos = join(d, 'photos');
    const inDir = join(d, 'in');
    mkdirSync(photos);
    mkdirSync(inDir);
    copyFileSync(join(FIXTURES, 'images', 'small_40x23.png'), join(photos, 'a.png'));
    writeFileSync(join(photos, 'precious.txt'), 'keep');
    symlinkSync(join(photos, 'a.png'), join(inDir, 'a.png'));
    expectFailure(await runCli(['detect', join(inDir, 'a.png'), '--detector', detr, '--visualize', photos, '--overwrite']), 1, /--visualize .*photos: contains the input image/);
    assert.deepEqual(readdirSync(photos).sort(), ['a.png', 'precious.txt']);
  });
});

describe('file outputs never replace what the run reads', () => {
  it("eval --json / --output-file: not the data dir's database, crops or cache, nor a model's file; a new file beside them is fine", async () => {
    const data = join(d, 'data');
    await makeTinyDataDir(data);
    const model = join(FIXTURES, 'clip_tiny', 'model');
    const db = join(data, 'test_data_mapping.db');
    const before = readFileSync(db);
    const evalArgs = ['eval', '--data', data, '--model', model, '--backend', 'cpu', '-n', '2'];
    expectFailure(await runCli([...evalArgs, '--json', db]), 1, /--json .*test_data_mapping\.db: is the --data dir's database/);
    expectFailure(await runCli([...evalArgs, '--output-file', db]), 1, /--output-file .*: is the --data dir's database/);
    const crop = readdirSync(join(data, 'reference_logos'), { recursive: true, withFileTypes: true }).find((e) => e.isFile())!;
    expectFailure(await runCli([...evalArgs, '--json', join(crop.parentPath, crop.name)]), 1, /would replace a file of the --data dir's reference_logos/);
    expectFailure(await runCli([...evalArgs, '--json', join(data, 'embedding_cache.sqlite')]), 1, /is the embedding cache/);
    expectFailure(await runCli([...evalArgs, '--json', join(model, 'config.json')]), 1, /would replace a file of the --model folder/);
    expectFailure(await runCli([...evalArgs, '--json', join(d, 'same.txt'), '--output-file', join(d, 'same.txt')]), 1, /--json .*same\.txt: is the --output-file/);
    assert.deepEqual(readFileSync(db), before);
    // a results file kept beside the data or the model is rewritten on a re-run; --output-file appends
    const modelCopy = join(d, 'model-copy');
    mkdirSync(modelCopy);
    for (const f of readdirSync(model)) copyFileSync(join(model, f), join(modelCopy, f));
    for (let run = 0; run < 2; run++) {
      const ok = await runCli(['eval', '--data', data, '--model', modelCopy, '--backend', 'cpu', '-n', '2', '--no-cache', '--json', join(data, 'results.json'), '--output-file', join(modelCopy, 'eval.txt')]);
      assert.equal(ok.code, 0, `run ${run}: ${ok.stderr}`);
    }
    assert.ok(existsSync(join(data, 'results.json')));
    // a new file the model would be read with (preprocessor_config.json) is refused too
    expectFailure(await runCli(['eval', '--data', data, '--model', modelCopy, '--backend', 'cpu', '--json', join(modelCopy, 'preprocessor_config.json')]), 1, /would add a file read with the --model folder/);
    assert.ok(!existsSync(join(modelCopy, 'preprocessor_config.json')));
  });

  it('merge-embeddings --out naming a shard, embed --pixels X --out X: refused before reading', async () => {
    const shard = join(d, 'shard0.safetensors');
    writeFileSync(shard, 'not read');
    expectFailure(await runCli(['merge-embeddings', shard, join(d, 'shard1.safetensors'), '--out', shard]), 1, /--out .*shard0\.safetensors: is the shard file/);
    const px = join(d, 'px.safetensors');
    copyFileSync(join(FIXTURES, 'clip_tiny', 'io.safetensors'), px);
    expectFailure(await runCli(['embed', '--model', join(FIXTURES, 'clip_tiny', 'model'), '--pixels', px, '--out', px]), 1, /--out .*px\.safetensors: is the --pixels file/);
    assert.equal(readFileSync(shard, 'utf8'), 'not read');
  });
});

describe('train configs', () => {
  it('an empty YAML document (empty, comments only, ~) is an error naming the file, not all defaults', () => {
    for (const [name, text] of [['empty.yaml', ''], ['comment.yaml', '# nothing here\n'], ['tilde.yaml', '~\n']]) {
      const p = join(d, name!);
      writeFileSync(p, text!);
      assert.throws(() => loadConfigFile(p), new RegExp(`config ${p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: holds no settings`));
    }
  });

  it("an empty path key is an error naming it, not the working directory", () => {
    for (const key of ['checkpoint_dir', 'db_path', 'base_model', 'output_dir', 'dataset_dir']) {
      const p = join(d, 'empty-key.yaml');
      writeFileSync(p, `${key}: ""\n`);
      assert.throws(() => loadConfigFile(p), new RegExp(`key '${key}' must not be empty`));
    }
    assert.throws(() => applyOverrides(defaultConfig(), { checkpoint_dir: '' }), /--checkpoint-dir: key 'checkpoint_dir' must not be empty/);
  });

  it("YAML keys that are collections, or named __proto__ at any depth, are one error naming them (a process warning; a silently dropped setting)", () => {
    const p = join(d, 'odd-keys.yaml');
    writeFileSync(p, 'lora_r: 4\n? [a]\n: 1\n');
    assert.throws(() => loadConfigFile(p), /a key is a collection \(\["a"\]\); keys are names/);
    writeFileSync(p, 'vision_config: {__proto__: {image_size: 48}}\n');
    assert.throws(() => loadConfigFile(p), /unknown key 'vision_config\.__proto__'/);
  });

  it('NaN / ±Infinity are named as such (JSON.stringify printed them as null)', () => {
    for (const [text, shown] of [['learning_rate: .nan', 'NaN'], ['learning_rate: .inf', 'Infinity'], ['temperature: -.inf', '-Infinity'], ['max_epochs: 1e400', 'Infinity']]) {
      const p = join(d, 'nan.yaml');
      writeFileSync(p, `${text}\n`);
      assert.throws(() => loadConfigFile(p), (e: Error) => e.message.includes(`got ${shown} (not a finite number)`) && !e.message.includes('got null'), text);
    }
  });

  it('command-line numbers are decimal text: 0x20, 0b101 and 0o1 are refused, not read as 32, 5, 1', () => {
    for (const [k, v] of [['batch_size', '0x20'], ['seed', '0b101'], ['max_epochs', '0o1']]) {
      assert.throws(() => applyOverrides(defaultConfig(), { [k!]: v }), new RegExp(`--${k!.replace(/_/g, '-')}: key '${k}' must be an integer, got "${v}"`));
    }
    assert.equal(applyOverrides(defaultConfig(), { seed: '7' }).config.seed, 7);
    assert.equal(applyOverrides(defaultConfig(), { learning_rate: '1e-4' }).config.learning_rate, 1e-4);
  });
});

describe('contradicting or moot options', () => {
  it('--cache with --no-cache (either order), --no-cache with --clear-cache: refused (the default cache was used)', async () => {
    const data = join(d, 'x');
    expectFailure(await runCli(['eval', '--data', data, '--no-cache', '--cache', join(d, 'c.sqlite')]), 2, /--cache and --no-cache: they contradict each other/);
    expectFailure(await runCli(['eval', '--data', data, '--cache', join(d, 'c.sqlite'), '--no-cache']), 2, /--cache and --no-cache: they contradict each other/);
    expectFailure(await runCli(['embed', '--data', data, '--cache', join(d, 'c.sqlite'), '--no-cache', '--out', join(d, 'e.safetensors')]), 2, /--cache and --no-cache/);
    expectFailure(await runCli(['eval', '--data', data, '--model', 'm', '--no-cache', '--clear-cache']), 2, /--clear-cache and --no-cache: a run without a cache clears none/);
  });

  it('integers beyond 2^53 are refused (synth --seed 9007199254740993 ran as …992)', async () => {
    expectFailure(await runCli(['synth', '--out', join(d, 'sb'), '--seed', '9007199254740993']), 2, /--seed: '9007199254740993' is beyond the integers a double holds exactly/);
    expectFailure(await runCli(['eval', '--data', join(d, 'x'), '-n', '1e300']), 2, /-n\/--num-logos: '1e300' is beyond/);
  });

  it('train --skip-export with --output-dir says the folder is not written; bench embed --family with a model folder is refused', async () => {
    const r = await runCli(['train', '--skip-export', '--output-dir', join(d, 'never'), '--base-model', join(d, 'no-model')]);
    assert.match(r.stderr, /warn: --output-dir .*never: not written, --skip-export writes no export/);
    expectFailure(await runCli(['bench', 'embed', '--model', join(FIXTURES, 'clip_tiny', 'model'), '--family', 'dinov2']), 2, /--family: applies to a preset --model/);
  });
});

describe('option shapes yargs builds that no command reads', () => {
  it('dotted names (--data.x) and --no-<path option> are usage errors, not internal TypeErrors', async () => {
    expectFailure(await runCli(['eval', '--data.x', join(d, 'x'), '--model', 'm']), 2, /Unknown argument: data\.x/);
    expectFailure(await runCli(['train', '--config.foo', 'x']), 2, /Unknown argument: config\.foo/);
    // --no-<value option> means not given (yargs made it false: internal TypeErrors): a required one is missing
    expectFailure(await runCli(['export', '--checkpoint', 'ck', '--no-out']), 2, /Missing required argument: out/);
    expectFailure(await runCli(['compare', '--no-report']), 2, /Missing required argument: report/);
    expectFailure(await runCli(['synth', '--list-brands', '--no-out']), 2, /--list-brands .*: --out would be ignored/);
  });

  it('a train list field may be given once per item, or comma-separated', async () => {
    for (const args of [['--lora-target-modules', 'q_proj', '--lora-target-modules', 'out_proj'], ['--lora-target-modules', 'q_proj,out_proj']]) {
      // (the run then stops at the missing model: the override line comes first)
      const r = await runCli(['train', ...args, '--base-model', join(d, 'no-model')]);
      assert.match(r.stderr, /override: lora_target_modules = \["q_proj","out_proj"\]/, r.stderr);
    }
  });

  it('resuming an image-level val_split 0 run whose history validated (the old split rule) is refused', () => {
    assert.match(legacySplitRefusal({ split_level: 'image', val_split: 0 }, [{ val: { separation: 0.1 } }], 'ck/last.ckpt')!, /--resume ck\/last\.ckpt: this run \(image-level split, val_split 0\) was started by an earlier logolab/);
    assert.equal(legacySplitRefusal({ split_level: 'image', val_split: 0 }, [{}], 'ck'), null, 'validated on nothing: today\'s rule');
    assert.equal(legacySplitRefusal({ split_level: 'image', val_split: 0.2 }, [{ val: {} }], 'ck'), null);
    assert.equal(legacySplitRefusal({ split_level: 'logo', val_split: 0 }, [{ val: {} }], 'ck'), null);
  });
});

describe('eval: what the data cannot give', () => {
  it('multi-ref needing more references than any sampled logo has is refused (it reported TP 0 / FP 0)', async () => {
    const data = join(d, 'data-mr');
    await makeTinyDataDir(data);
    const args = ['eval', '--data', data, '--model', join(FIXTURES, 'clip_tiny', 'model'), '--backend', 'cpu', '--no-cache', '--matching-method', 'multi-ref'];
    expectFailure(await runCli([...args, '--min-matching-refs', '50']), 1, /--min-matching-refs 50: the sampled logos have at most \d+ reference crops each, so multi-ref can never match/);
    const ok = await runCli([...args, '--min-matching-refs', '1']);
    assert.equal(ok.code, 0, ok.stderr);
  });

  it('a test image replaced since prepare (another size) is an error naming it, not crops of the wrong picture', async () => {
    const data = join(d, 'data-changed');
    await makeTinyDataDir(data);
    // every test image replaced (the sample leaves out those a reference crop was cut from)
    const sizes = new Set<string>();
    for (const e of readdirSync(join(data, 'test_images'), { recursive: true, withFileTypes: true }).filter((x) => x.isFile())) {
      const path = join(e.parentPath, e.name);
      const { width, height } = await sharp(path).metadata();
      sizes.add(`${width}x${height}`);
      writeFileSync(path, await sharp({ create: { width: 20, height: 20, channels: 3, background: '#123' } }).png().toBuffer());
    }
    assert.ok(!sizes.has('20x20'));
    const r = await runCli(['eval', '--data', data, '--model', join(FIXTURES, 'clip_tiny', 'model'), '--backend', 'cpu', '--no-cache']);
    expectFailure(r, 1, new RegExp(`test_images/[^:]+: the image is 20x20, but its data dir recorded (${[...sizes].join('|')}): the file changed since it was prepared`));
  });
});

describe('synth', () => {
  it('--list-brands with scene options is refused (they were ignored); with --brand-set it lists', async () => {
    expectFailure(await runCli(['synth', '--list-brands', '--out', join(d, 'sx'), '--brands', '2']), 2, /--list-brands .*: --out, --brands would be ignored/);
    const r = await runCli(['synth', '--list-brands', '--brand-set', 'B']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.split('\n').filter(Boolean).every((l) => l.split('\t')[1] === 'B'));
  });

  it('a bad --contact-sheet is refused before anything is rendered', async () => {
    const out = join(d, 'syn');
    expectFailure(await runCli(['synth', '--out', out, '--brands', '1', '--images-per-brand', '1', '--contact-sheet', d]), 2, /--contact-sheet .*: the sheet is a PNG/);
    expectFailure(await runCli(['synth', '--out', out, '--brands', '1', '--images-per-brand', '1', '--contact-sheet', join(d, 'sheet.jpg')]), 2, /give a \.png file name/);
    writeFileSync(join(d, 'file.png'), 'a file where a folder should be');
    expectFailure(await runCli(['synth', '--out', out, '--brands', '1', '--images-per-brand', '1', '--contact-sheet', join(d, 'file.png', 'x.png')]), 1, /--contact-sheet .*file\.png is not a directory/);
    assert.ok(!existsSync(out), 'nothing rendered');
  });
});
