/**
 * Fault trials: image inputs. A bad image is an error naming it (or, with `embed --skip-bad`, a
 * skipped file listed at the end); special files are refused without hanging; no partial output.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../helpers.js';
import { cli, cliProcess, expectFailure, expectOk } from './harness.js';
import { BACKEND, ROOT_TMP, baseModel } from './fixtures.js';

const GOOD = join(FIXTURES, 'images/small_40x23.png');

describe('fault trials: images', () => {
  let model = '';
  let folder = '';
  before(async () => {
    model = await baseModel();
    folder = join(ROOT_TMP, 'imgs');
    mkdirSync(join(folder, 'sub'), { recursive: true });
    copyFileSync(GOOD, join(folder, 'a.png'));
    copyFileSync(join(FIXTURES, 'images/tall_97x151.png'), join(folder, 'sub', 'c.png'));
    writeFileSync(join(folder, 'b.jpg'), 'not an image at all\n');
    const png = readFileSync(GOOD);
    writeFileSync(join(folder, 'sub', 'd.png'), png.subarray(0, Math.floor(png.length / 2))); // truncated
    symlinkSync(join(ROOT_TMP, 'no-such-target.png'), join(folder, 'sub', 'e.png')); // dangling link
  });

  it('embed of a text file named .jpg is an error naming it; no output file', async () => {
    const out = join(ROOT_TMP, 'bad1.jsonl');
    expectFailure(await cli('embed', join(folder, 'b.jpg'), '--model', model, '--out', out, ...BACKEND), 1, /b\.jpg/);
    assert.ok(!existsSync(out));
  });

  it('embed of a truncated PNG is an error naming it', async () => {
    expectFailure(await cli('embed', join(folder, 'sub', 'd.png'), '--model', model, '--out', join(ROOT_TMP, 'bad2.jsonl'), ...BACKEND), 1, /d\.png/);
  });

  it('embed of a zero-byte image is an error naming it', async () => {
    const f = join(ROOT_TMP, 'empty.png');
    writeFileSync(f, '');
    expectFailure(await cli('embed', f, '--model', model, '--out', join(ROOT_TMP, 'bad3.jsonl'), ...BACKEND), 1, /empty\.png/);
  });

  it('embed over a folder with bad images fails naming the first and pointing at --skip-bad', async () => {
    expectFailure(await cli('embed', folder, '--model', model, '--out', join(ROOT_TMP, 'bad4.jsonl'), ...BACKEND), 1, /b\.jpg.*--skip-bad/);
  });

  it('embed --skip-bad over a folder embeds the good images and lists the skipped ones', async () => {
    const out = join(ROOT_TMP, 'skip.jsonl');
    const r = await cli('embed', folder, '--model', model, '--out', out, '--skip-bad', ...BACKEND);
    expectOk(r);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l).path as string);
    assert.deepEqual(lines.map((p) => p.slice(folder.length + 1)), ['a.png', 'sub/c.png']);
    assert.match(r.stderr, /skipped 3 unreadable images[\s\S]*b\.jpg[\s\S]*d\.png[\s\S]*e\.png/);
    // each with its own reason, as when read alone (decoded beside others, libvips' shared error
    // buffer could give "Unknown error"; a race, so this guards rather than reproduces)
    const alone = await cli('embed', join(folder, 'sub', 'd.png'), '--model', model, '--out', join(ROOT_TMP, 'alone.jsonl'), ...BACKEND);
    const reason = /d\.png: (.*?) \(--skip-bad/.exec(alone.stderr)?.[1];
    assert.ok(reason && r.stderr.includes(`d.png: ${reason}`), `${alone.stderr}\n---\n${r.stderr}`);
    assert.doesNotMatch(r.stderr, /Unknown error/);
  });

  it('flags embed would ignore in a mode are refused: --data with --normalize or --skip-bad, --pixels with --skip-bad', async () => {
    const data = join(ROOT_TMP, 'no-data');
    expectFailure(await cli('embed', '--data', data, '--model', model, '--out', join(ROOT_TMP, 'x.safetensors'), '--normalize', ...BACKEND), 1, /--normalize applies to image files; --data exports raw embeddings/);
    expectFailure(await cli('embed', '--data', data, '--model', model, '--out', join(ROOT_TMP, 'x.safetensors'), '--skip-bad', ...BACKEND), 1, /--skip-bad applies to image files; with --data/);
    expectFailure(await cli('embed', '--pixels', join(ROOT_TMP, 'p.safetensors'), '--model', model, '--out', join(ROOT_TMP, 'x.safetensors'), '--skip-bad', ...BACKEND), 1, /--skip-bad applies to image files; --pixels reads one tensor/);
  });

  it('embed --skip-bad with nothing good left is an error', async () => {
    expectFailure(await cli('embed', join(folder, 'b.jpg'), '--model', model, '--out', join(ROOT_TMP, 'none.jsonl'), '--skip-bad', ...BACKEND), 1, /no image could be read/);
  });

  it('a FIFO named like an image is refused at once (no hang), naming it', async () => {
    const fifo = join(ROOT_TMP, 'pipe.png');
    execFileSync('mkfifo', [fifo]);
    const r = await cliProcess(['embed', fifo, '--model', model, '--out', join(ROOT_TMP, 'fifo.jsonl'), ...BACKEND], { timeoutMs: 30_000 });
    assert.equal(r.timedOut, false, 'the command hung on the FIFO');
    expectFailure(r, 1, /pipe\.png.*(FIFO|not a regular file)/);
  });

  it('eval --folders with a FIFO among the test images is refused naming it (no hang)', { timeout: 60_000 }, async () => {
    const root = join(ROOT_TMP, 'folders-fifo');
    mkdirSync(join(root, 'acme_reference_images'), { recursive: true });
    mkdirSync(join(root, 'test_images'), { recursive: true });
    copyFileSync(GOOD, join(root, 'acme_reference_images', '1.png'));
    copyFileSync(GOOD, join(root, 'test_images', 'acme_1.png'));
    execFileSync('mkfifo', [join(root, 'test_images', 'acme_2.png')]);
    expectFailure(await cli('eval', '--folders', root, '--model', model, '--detector', 'whole-image', '--no-cache', ...BACKEND), 1, /acme_2\.png.*FIFO/);
  });

  it('a FIFO given as --config is refused at once (no hang)', async () => {
    const fifo = join(ROOT_TMP, 'pipe.yaml');
    execFileSync('mkfifo', [fifo]);
    const r = await cliProcess(['train', '--config', fifo], { timeoutMs: 30_000 });
    assert.equal(r.timedOut, false, 'the command hung on the FIFO');
    expectFailure(r, 1, /pipe\.yaml.*(FIFO|not a regular file)/);
  });

  it('a folder named like an image inside an input folder is walked, not decoded', async () => {
    const dir = join(ROOT_TMP, 'imgdir');
    mkdirSync(join(dir, 'x.png'), { recursive: true });
    copyFileSync(GOOD, join(dir, 'x.png', 'inner.png'));
    const out = join(ROOT_TMP, 'imgdir.jsonl');
    expectOk(await cli('embed', dir, '--model', model, '--out', out, ...BACKEND));
    assert.equal(readFileSync(out, 'utf8').trim().split('\n').length, 1);
  });
});
