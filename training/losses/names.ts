/**
 * The loss names, in one place: the config schema's `loss_type` choices and getLoss's switch both
 * read this list. Kept free of tfjs imports so loading a config does not load the losses.
 */
export const LOSS_NAMES = ['infonce', 'milnce', 'supcon', 'triplet', 'combined'] as const;
export type LossName = (typeof LOSS_NAMES)[number];
