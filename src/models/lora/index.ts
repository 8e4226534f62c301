/** LoRA on the vision tower: config, injection, merge/unmerge, peft adapter load/save. */
export * from './config.js';
export * from './apply.js';
export * from './peft.js';
export * from './io.js';
