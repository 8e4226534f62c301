/**
 * embed's --out is checked against everything the mode reads, in every mode: image files and
 * --pixels checked only the --pixels file, so `embed --model M img.png --out M/model.safetensors`
 * exited 0 and replaced the weights (--data refused it through evalInputs). One error line, exit
 * 1, the input untouched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, tmpDir } from '../helpers.js';
import { expectFailure, runCli } from './run.js';

const CLIP = join(FIXTURES, 'clip_tiny/model');
const PIXELS = join(FIXTURES, 'clip_tiny/io.safetensors');
const IMAGE = join(FIXTURES, 'images/square_224.png');

test('embed (images, --pixels): --out inside the --model or --adapter folder is refused, the weights intact', async () => {
  const d = tmpDir();
  const model = join(d, 'model');
  cpSync(CLIP, model, { recursive: true });
  const adapter = join(d, 'adapter');
  cpSync(join(FIXTURES, 'lora/adapter'), adapter, { recursive: true });
  const weights = readFileSync(join(model, 'model.safetensors'));
  const adapterWeights = readFileSync(join(adapter, 'adapter_model.safetensors'));
  for (const mode of [[IMAGE], ['--pixels', PIXELS]]) {
    const out = join(model, 'model.safetensors');
    expectFailure(await runCli(['embed', '--model', model, ...mode, '--out', out, '--backend', 'wasm']), 1, /^logolab: error: --out .*model\.safetensors: would replace a file of the --model folder .*model; refusing/);
    assert.ok(readFileSync(out).equals(weights), `${mode[0]}: the model's weights were replaced`);
    const aout = join(adapter, 'adapter_model.safetensors');
    expectFailure(await runCli(['embed', '--model', model, '--adapter', adapter, ...mode, '--out', aout, '--backend', 'wasm']), 1, /--out .*adapter_model\.safetensors: would replace a file of the --adapter folder/);
    assert.ok(readFileSync(aout).equals(adapterWeights), `${mode[0]}: the adapter's weights were replaced`);
  }
  // a new file the model folder would read (weights, configs) is refused too, and none is written
  expectFailure(await runCli(['embed', '--model', model, IMAGE, '--out', join(model, 'extra.safetensors'), '--backend', 'wasm']), 1, /would add a file read with the --model folder/);
  assert.deepEqual(readdirSync(model).sort(), readdirSync(CLIP).sort());
});

test('embed images: --out naming an input image is refused; an output beside the images is not', async () => {
  const d = tmpDir();
  // an explicit file is read whatever its name: a PNG named .safetensors decodes
  const pic = join(d, 'pic.safetensors');
  copyFileSync(IMAGE, pic);
  expectFailure(await runCli(['embed', '--model', CLIP, pic, '--out', pic, '--backend', 'wasm']), 1, /--out .*pic\.safetensors: is the input image .*pic\.safetensors; refusing to replace it/);
  assert.ok(readFileSync(pic).equals(readFileSync(IMAGE)));
  copyFileSync(IMAGE, join(d, 'pic.png'));
  const ok = await runCli(['embed', '--model', CLIP, d, '--out', join(d, 'e.jsonl'), '--backend', 'wasm']);
  assert.equal(ok.code, 0, ok.stderr);
});
