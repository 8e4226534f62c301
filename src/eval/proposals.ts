/**
 * Region proposals behind one interface:
 *   gt-boxes     the ground-truth boxes of the image (all of its objects, sampled logos or not):
 *                isolates embedding quality from detection
 *   whole-image  one region = the whole image
 *   detr:<dir>   the DETR detector (src/detect) with detr_threshold, min_box_size, NMS IoU as the
 *                reference's DetectLogosDETR (`detr:detr-r50` = random weights of the real shape)
 */
import { LogolabError } from '../errors.js';
import { hasPixels, type RgbImage } from '../preprocess/image.js';
import { log } from '../util/log.js';
import type { DatasetImage } from './dataset.js';
import type { Box } from '../util/box.js';
import { DETR_DETECTOR_DEFAULTS, loadDetector } from '../detect/detector.js';
import { detrTarget } from '../detect/load.js';

export interface Proposal {
  box: Box;
  score: number;
}

/**
 * DETR's post-processing (score threshold, min box side in px, class-agnostic NMS IoU): recorded
 * with the embeddings, so a side computed later can propose the regions a file was made with.
 */
export interface DetrSettings {
  threshold: number;
  minBoxSize: number;
  nmsIou: number;
}

/** The detector's defaults (the reference's DetectLogosDETR), under the CLI's names. */
export const DETR_DEFAULTS: Readonly<DetrSettings> = { threshold: DETR_DETECTOR_DEFAULTS.threshold, minBoxSize: DETR_DETECTOR_DEFAULTS.minBoxSize, nmsIou: DETR_DETECTOR_DEFAULTS.nmsIouThreshold };

export function detrSettingsText(s: DetrSettings | null | undefined): string {
  return s ? `threshold ${s.threshold}, min box ${s.minBoxSize} px, NMS IoU ${s.nmsIou}` : 'none recorded';
}

export interface RegionProposer {
  /** e.g. 'gt-boxes', 'whole-image', 'detr:/models/detr' */
  name: string;
  /** a DETR proposer's post-processing */
  settings?: DetrSettings;
  /**
   * a DETR proposer's detector fingerprint (its config, image processor config and weights:
   * DetrDetector.fingerprint), recorded with the embeddings beside `name`, which is only the path
   * as typed; the post-processing is `settings`
   */
  fingerprint?: string;
  /** whether propose() needs the decoded pixels */
  needsPixels: boolean;
  propose(im: DatasetImage, rgb: RgbImage | null): Promise<Proposal[]>;
  dispose?(): void;
}

export const gtBoxes: RegionProposer = {
  name: 'gt-boxes',
  needsPixels: false,
  async propose(im) {
    const seen = new Set<string>();
    const out: Proposal[] = [];
    for (const g of im.gt) {
      if (!g.box) throw new LogolabError(`${im.name}: no ground-truth boxes (folder layout) — use --detector whole-image or detr:<dir>`);
      const k = g.box.join(',');
      if (seen.has(k)) continue;
      seen.add(k);
      out.push({ box: [...g.box] as Box, score: 1 });
    }
    return out;
  },
};

export const wholeImage: RegionProposer = {
  name: 'whole-image',
  needsPixels: false,
  async propose(im) {
    return [{ box: [0, 0, im.width, im.height], score: 1 }];
  },
};

/**
 * `detr:<dir|detr-r50>`: the detector of src/detect (HF post-processing, then the Python original's
 * min_box_size filter and class-agnostic NMS), one image at a time. A box with no whole pixel has no
 * crop to embed: it is dropped, and the drops are counted and reported once (dispose), instead of
 * aborting the run at the crop.
 */
export function detrProposer(spec: string, o: { detrThreshold: number; minBoxSize: number; nmsIou: number }): RegionProposer {
  const det = loadDetector(spec, { threshold: o.detrThreshold, minBoxSize: o.minBoxSize, nmsIouThreshold: o.nmsIou });
  const empty = { boxes: 0, images: 0, first: '' };
  return {
    name: `detr:${spec}`,
    settings: { threshold: o.detrThreshold, minBoxSize: o.minBoxSize, nmsIou: o.nmsIou },
    fingerprint: det.fingerprint,
    needsPixels: true,
    async propose(im, rgb) {
      const [r] = await det.detect([rgb!], { names: [im.path] });
      const all = r!.boxes.map((b, i) => ({ box: [...b] as Box, score: r!.scores[i]! }));
      const kept = all.filter((p) => hasPixels(p.box, rgb!.width, rgb!.height));
      if (kept.length < all.length) {
        const gone = all.find((p) => !kept.includes(p))!;
        log('debug', `${im.path}: ${all.length - kept.length} DETR box(es) with no whole pixel dropped (e.g. [${gone.box.join(', ')}])`);
        if (!empty.boxes) empty.first = `${im.path} box [${gone.box.join(', ')}]`;
        empty.boxes += all.length - kept.length;
        empty.images++;
      }
      return kept;
    },
    dispose: () => {
      det.dispose();
      if (empty.boxes) log('warn', `${empty.boxes} DETR box(es) in ${empty.images} image(s) cover no whole pixel and were dropped (e.g. ${empty.first}); --min-box-size ${o.minBoxSize} lets them through`);
    },
  };
}

/** How embeddings record their region proposals: the detector as named, and a DETR's fingerprint. */
export interface DetectorIdentity {
  detector: string;
  /** absent for gt-boxes and whole-image, and in files of older versions */
  detectorFingerprint?: string;
}

/**
 * Why two sets of embeddings cannot hold regions of one detector, or null. Two DETR folders at
 * other paths are one detector when their fingerprints agree (one model on two machines); at one
 * path with other fingerprints they are two. A side without a fingerprint (an older logolab's file)
 * can only be compared by name, as before.
 */
export function detectorMismatch(a: DetectorIdentity, b: DetectorIdentity): string | null {
  if (a.detectorFingerprint && b.detectorFingerprint) {
    return a.detectorFingerprint === b.detectorFingerprint ? null : `detector ${a.detector} (fingerprint ${a.detectorFingerprint.slice(0, 12)}…) and ${b.detector} (fingerprint ${b.detectorFingerprint.slice(0, 12)}…) are different detectors (other weights or configs)`;
  }
  return a.detector === b.detector ? null : `detector ${a.detector} and ${b.detector} differ`;
}

/** --detector gt-boxes | whole-image | detr:<dir> */
export function makeProposer(spec: string, o: { detrThreshold: number; minBoxSize: number; nmsIou: number }): RegionProposer {
  if (spec === 'gt-boxes') return gtBoxes;
  if (spec === 'whole-image') return wholeImage;
  // only a `detr:` spec with a folder after it: a bare folder is not taken here, unlike loadDetector
  const target = detrTarget(spec);
  if (target !== spec && target) return detrProposer(target, o);
  throw new LogolabError(`--detector: '${spec}' is not gt-boxes, whole-image or detr:<model dir>`);
}
