/** DETR logo detector: model, loader, post-processing, the Detector interface, conversion. */
export { detrConfigFromJson, type DetrConfig, type BackboneKind } from './config.js';
export { detrKeySpec } from './spec.js';
export { DetrModel, loadDetrModel, loadDetrOrPreset, detrR50Config, detrFromSource } from './load.js';
export { syntheticSource, type WeightSource } from './weights.js';
export { type DetrOutputs } from './model.js';
export { postProcessObjectDetection, filterMinBoxSize, nms, iou, type Detections } from './postprocess.js';
export type { Box } from '../util/box.js';
export { DetrDetector, loadDetector, DETR_DETECTOR_DEFAULTS, type Detector, type DetectionResult, type DetrDetectorOptions } from './detector.js';
export { convertDetr, isDetrFolder, type ConvertDetrSummary } from './convert.js';
export { drawDetections } from './visualize.js';
