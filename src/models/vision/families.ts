/** The vision families by name: each one's key map, layout detection and tower (clip.ts, dinov2.ts, siglip.ts). */
import { clipFamily } from './clip.js';
import type { VisionFamily } from './config.js';
import { dinov2Family } from './dinov2.js';
import { siglipFamily } from './siglip.js';
import type { FamilyDef } from './tower.js';

export const FAMILIES: Record<VisionFamily, FamilyDef> = { clip: clipFamily, dinov2: dinov2Family, siglip: siglipFamily };
