/** `logolab prepare`: a LogoDet-3K or Burnley folder-layout dataset → reference crops + test images + SQLite ground truth. */
import type { CommandModule } from 'yargs';
import { prepareAny } from '../../src/data/prepare.js';
import { numberOption, refuseBackendFlag } from '../options.js';

export const command: CommandModule = {
  command: 'prepare',
  describe: 'ingest a dataset into a data dir (resumable; re-ingests what changed): LogoDet-3K layout (<Category>/<Brand>/*.jpg + .xml) or the Burnley folder layout (<logo>_reference_images/, test_images/)',
  builder: (y) =>
    y
      .option('dataset', { type: 'string', demandOption: true, describe: 'LogoDet-3K folder, Burnley folder layout, or a `logolab synth` output of either' })
      .option('out', { type: 'string', demandOption: true, describe: 'data dir to create or complete' })
      .option('limit-brands', numberOption('limit-brands', { int: true, min: 1, describe: 'only the first N brand folders (sorted)' }))
      // no yargs default (prepareDataset's is 2): the folder layout must tell a given value from none
      .option('concurrency', numberOption('concurrency', { int: true, min: 1, describe: 'LogoDet-3K layout: images decoded in parallel (default 2)' }))
      .option('replace-dataset', { type: 'boolean', default: false, describe: 'prepare into a data dir made from another --dataset path: its sources not in this dataset are removed, unchanged ones kept (a moved dataset)' }),
  handler: async (argv) => {
    refuseBackendFlag(argv, 'prepare', 'decodes and crops images with sharp and uses no tfjs backend');
    const s = await prepareAny({
      dataset: argv.dataset as string,
      out: argv.out as string,
      limitBrands: argv['limit-brands'] as number | undefined,
      concurrency: argv.concurrency as number | undefined,
      replaceDataset: argv['replace-dataset'] as boolean,
    });
    process.stdout.write(JSON.stringify(s, null, 2) + '\n');
  },
};
