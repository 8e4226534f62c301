// yargs' own validation messages reach the user as one `logolab: usage error:` line that names the
// flag: a `choices` failure used to print "Invalid values:" with the flag and value on a line below.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import yargs from 'yargs';
import { runCli } from './run.js';
import { yargsMessageLine } from '../../cli/options.js';
import { BACKEND_CHOICES } from '../../src/backend/index.js';

/** The whole of stderr is exactly `line` (and exit 2): nothing continues on a next line. */
async function usageError(args: string[], line: string): Promise<void> {
  const r = await runCli(args);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr, `logolab: usage error: ${line}\n`);
}

describe('a value outside an option\'s choices is one line naming the flag, the value and the choices', () => {
  it('--dtype, --backend, --format, --log-level', async () => {
    await usageError(['convert', 'src', '--out', 'dst', '--dtype', 'bfloat16'], `--dtype: 'bfloat16' is not one of float32, float16`);
    await usageError(['embed', '--model', 'm', '--out', 'o.jsonl', 'img', '--backend', 'cuda'], `--backend: 'cuda' is not one of ${BACKEND_CHOICES.join(', ')}`);
    await usageError(['export', '--checkpoint', 'c.ckpt', '--out', 'o', '--format', 'onnx'], `--format: 'onnx' is not one of logolab, hf, peft`);
    await usageError(['embed', '--model', 'm', '--out', 'o.jsonl', 'img', '--log-level', 'loud'], `--log-level: 'loud' is not one of debug, info, warn, error`);
  });

  it('two bad options: both on the one line', async () => {
    await usageError(
      ['export', '--checkpoint', 'c.ckpt', '--out', 'o', '--format', 'onnx', '--backend', 'cuda'],
      `--format: 'onnx' is not one of logolab, hf, peft; --backend: 'cuda' is not one of ${BACKEND_CHOICES.join(', ')}`,
    );
  });

  it('a value with quotes or commas is quoted as given, a newline in it escaped', async () => {
    await usageError(['convert', 'src', '--out', 'dst', '--dtype', 'a, Choices: "b"'], `--dtype: 'a, Choices: "b"' is not one of float32, float16`);
    await usageError(['convert', 'src', '--out', 'dst', '--dtype', 'float\n16'], `--dtype: 'float\\n16' is not one of float32, float16`);
  });
});

describe('the other yargs validation messages are one line', () => {
  it('missing required options, unknown options, a mistyped command', async () => {
    await usageError(['embed', '--out', 'o.jsonl', 'img'], 'Missing required argument: model');
    await usageError(['embed', 'img'], 'Missing required arguments: model, out');
    await usageError(['embed', '--model', 'm', '--out', 'o.jsonl', 'img', '--bogus', '--zzz=1'], 'Unknown arguments: bogus, zzz');
    await usageError(['embd'], 'Did you mean embed?');
  });

  /** What yargs itself says for `args` under a small parser with these rules. */
  function yargsMessage(args: string[], rules: (y: ReturnType<typeof yargs>) => ReturnType<typeof yargs>): string {
    let msg = '';
    rules(yargs(args).locale('en').exitProcess(false)).fail((m: string) => {
      msg = m;
    }).parseSync();
    assert.notEqual(msg, '', `yargs accepted ${args.join(' ')}`);
    return msg;
  }

  it('implies, conflicts, a required option with its own text, numeric choices', () => {
    const implies = yargsMessage(['--a', '1'], (y) => y.option('a', { type: 'string' }).option('b', { type: 'string' }).implies('a', 'b'));
    assert.match(implies, /\n/, 'yargs writes this one over two lines');
    assert.equal(yargsMessageLine(implies), 'Missing dependent arguments: a -> b');
    const conflicts = yargsMessage(['--a', '1', '--b', '2'], (y) => y.option('a', { type: 'string' }).option('b', { type: 'string' }).conflicts('a', 'b'));
    assert.equal(yargsMessageLine(conflicts), 'Arguments a and b are mutually exclusive');
    const demanded = yargsMessage([], (y) => y.option('model', { type: 'string', demandOption: 'give the model folder' }));
    assert.match(demanded, /\n/);
    assert.equal(yargsMessageLine(demanded), 'Missing required argument: model give the model folder');
    const numeric = yargsMessage(['-n', '3'], (y) => y.option('n', { type: 'number', choices: [1, 2] }));
    assert.equal(yargsMessageLine(numeric), `-n: '3' is not one of 1, 2`);
  });
});
