/**
 * `logolab merge-embeddings --out f.safetensors <shard files…>`: joins the shards of a sharded
 * `embed --data … --shard i/N` run into the exchange file `eval|compare --embeddings` read
 * (src/eval/merge.ts). Written atomically; on any error no output file. An existing --out is
 * replaced only when it is a logolab embeddings file (src/embed/output.ts) or with --overwrite.
 */
import type { CommandModule } from 'yargs';
import { extname } from 'node:path';
import { LogolabError } from '../../src/errors.js';
import { assertOutputFile } from '../../src/io/file-kind.js';
import { embeddingsOutput } from '../../src/embed/output.js';
import { mergeShards } from '../../src/eval/merge.js';
import { log } from '../../src/util/log.js';
import { refuseBackendFlag } from '../options.js';

export const command: CommandModule = {
  command: 'merge-embeddings <shards..>',
  describe: 'merge the shard files of `embed --data … --shard i/N` into one embeddings exchange file',
  builder: (y) =>
    y
      .positional('shards', { type: 'string', array: true, describe: 'every shard file of the set, once' })
      .option('out', { type: 'string', demandOption: true, describe: 'merged .safetensors exchange file (written atomically)' })
      .option('overwrite', { type: 'boolean', default: false, describe: 'replace an existing --out that is not an earlier logolab embeddings file (never a shard)' }),
  handler: async (argv) => {
    refuseBackendFlag(argv, 'merge-embeddings', 'copies stored embeddings between files and uses no tfjs backend');
    const out = argv.out as string;
    if (extname(out) !== '.safetensors') throw new LogolabError(`--out ${out}: must be a .safetensors file`);
    // merging into one of the shards would leave the set without it; a file logolab did not
    // write (another model's model.safetensors) is not replaced without --overwrite
    assertOutputFile(out, '--out', (argv.shards as string[]).map((p) => ({ path: p, what: 'shard file' })), embeddingsOutput(argv.overwrite as boolean));
    const r = mergeShards(argv.shards as string[], out);
    log('info', `merged ${r.shards} shards: ${r.refs} reference and ${r.regions} region embeddings (dim ${r.dim}) to ${out}`);
  },
};
