/** `logolab synth`: a dataset of synthetic scenes from real brand logos (npm logo packages). */
import type { CommandModule } from 'yargs';
import { numberOption, refuseBackendFlag } from '../options.js';
import { extname, resolve } from 'node:path';
import { LogolabError, UsageError } from '../../src/errors.js';
import { assertOutputFile } from '../../src/io/file-kind.js';
import { givenOptions } from '../option-forms.js';
import { MAX_SCENE_SIDE, synthesize, type SynthLayout } from '../../src/data/synth/writer.js';
import { drawableBrands, leftOutNote, type BrandSet } from '../../src/data/synth/sources.js';

export const command: CommandModule = {
  command: 'synth',
  describe: 'write a synthetic logo dataset (LogoDet-3K or folder layout) from real brand logos',
  builder: (y) =>
    y
      .option('out', { type: 'string', describe: 'output folder (created; replaced only if it holds nothing but an earlier synth output)' })
      .option('overwrite', { type: 'boolean', default: false, describe: 'replace --out even if it is a non-empty folder that is not (only) an earlier synth output' })
      .option('brands', numberOption('brands', { default: 20, int: true, min: 1, describe: 'number of brands' }))
      .option('seed', numberOption('seed', { default: 0, int: true, min: 0, describe: 'seed: same seed → byte-identical files' }))
      .option('images-per-brand', numberOption('images-per-brand', { default: 6, int: true, min: 1, describe: 'scenes per brand' }))
      .option('negatives', numberOption('negatives', { int: true, min: 0, describe: 'scenes with no selected brand (default 15% of the brand scenes)' }))
      .option('layout', { type: 'string', choices: ['logodet3k', 'folders'], default: 'logodet3k' })
      .option('brand-set', { type: 'string', choices: ['A', 'B', 'all'], default: 'all', describe: 'disjoint halves by a fixed hash of the brand slug (train on A, evaluate on B; B never selects its brands that are set-A logos under another name, nor both of two set-B brands with one logo, as labelled brands; they can still appear as unlabelled distractors)' })
      .option('min-side', numberOption('min-side', { default: 256, int: true, min: 64, max: MAX_SCENE_SIDE, describe: 'scene size range (px)' }))
      .option('max-side', numberOption('max-side', { default: 512, int: true, min: 64, max: MAX_SCENE_SIDE }))
      // no yargs default (synthesize's is 4): the logodet3k layout must tell a given value from none
      .option('references-per-brand', numberOption('references-per-brand', { int: true, min: 1, describe: 'folders layout only: clean reference images per brand (default 4)' }))
      .option('label-by', { type: 'string', choices: ['brand', 'shape'], default: 'brand', describe: 'logo identity: brand (any rendition) or shape (one drawing of a brand in all its colour styles; pre-training data, folders <slug>-<k>)' })
      .option('targets-per-scene', numberOption('targets-per-scene', { default: 1, int: true, min: 1, describe: 'with --label-by shape: annotated logos per scene (own shape + others in rotation)' }))
      .option('renditions-per-shape', numberOption('renditions-per-shape', { int: true, min: 1, describe: 'with --label-by shape: keep this many renditions per shape (seeded choice; 1 = a label always has the same colours)' }))
      .option('record-renditions', { type: 'boolean', default: false, describe: 'logodet3k layout only: also write renditions.json (each annotated object\'s drawn rendition, for evaluation by drawing)' })
      .option('contact-sheet', { type: 'string', describe: 'also write a PNG grid of sample scenes with their boxes' })
      .option('list-brands', { type: 'boolean', default: false, describe: 'print the brands --brand-set can select (slug, set, packs) and exit; set B leaves out the brands it never selects' }),
  handler: async (argv) => {
    refuseBackendFlag(argv, 'synth', 'renders scenes with sharp and uses no tfjs backend');
    if (argv['list-brands']) {
      // the listing reads --brand-set only: a scene option given with it would be silently ignored
      const ignored = [...givenOptions(argv)].filter((k) => !['list-brands', 'brand-set', 'log-level'].includes(k));
      if (ignored.length) throw new UsageError(`--list-brands prints the brand list and writes nothing: ${ignored.map((k) => `--${k}`).join(', ')} would be ignored; leave ${ignored.length > 1 ? 'them' : 'it'} out`);
      // the brands synth can select for this set, so the list and --brands agree (set B's skipped
      // aliases and duplicates are left out and counted on stderr; the TSV columns stay as they were)
      const set = (argv['brand-set'] as BrandSet) ?? 'all';
      const bs = drawableBrands(set);
      for (const b of bs) process.stdout.write(`${b.slug}\t${b.set}\t${b.category}\t${[b.simpleIcon ? 'simple-icons' : '', b.logos.length ? `logos×${b.logos.length}` : ''].filter(Boolean).join(',')}\t${b.title}\n`);
      process.stderr.write(`[logolab] ${bs.length} brands${leftOutNote(set)}\n`);
      return;
    }
    if (argv.out === undefined) throw new LogolabError('--out is required');
    // checked before the (long) rendering, which writes the sheet last
    if (argv['contact-sheet'] !== undefined) {
      const sheet = argv['contact-sheet'] as string;
      if (extname(sheet).toLowerCase() !== '.png') throw new UsageError(`--contact-sheet ${sheet}: the sheet is a PNG; give a .png file name`);
      assertOutputFile(sheet, '--contact-sheet');
    }
    const s = await synthesize({
      out: resolve(argv.out as string),
      brands: argv.brands as number,
      seed: argv.seed as number,
      imagesPerBrand: argv['images-per-brand'] as number,
      negatives: argv.negatives as number | undefined,
      layout: argv.layout as SynthLayout,
      brandSet: argv['brand-set'] as BrandSet,
      minSide: argv['min-side'] as number,
      maxSide: argv['max-side'] as number,
      referencesPerBrand: argv['references-per-brand'] as number | undefined,
      contactSheet: argv['contact-sheet'] !== undefined ? resolve(argv['contact-sheet'] as string) : undefined,
      labelBy: argv['label-by'] as 'brand' | 'shape',
      targetsPerScene: argv['targets-per-scene'] as number,
      renditionsPerShape: argv['renditions-per-shape'] as number | undefined,
      recordRenditions: argv['record-renditions'] as boolean,
      overwrite: argv.overwrite as boolean,
    });
    process.stdout.write(JSON.stringify({ ...s, brands: s.brands.map((b) => b.slug) }, null, 2) + '\n');
  },
};
