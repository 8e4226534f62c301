/**
 * DETR configuration, read from an HF `config.json` (DetrConfig) with the fields the forward pass
 * needs. Two backbone flavours, both ResNet bottleneck networks with frozen BatchNorm:
 *  - 'timm': `use_timm_backbone` / `backbone: "resnet50"` (facebook/detr-resnet-50 and its
 *    fine-tunes) — keys `backbone.conv_encoder.model.{conv1,bn1,layerN.i.*}`;
 *  - 'hf':   an HF `ResNetConfig` in `backbone_config` (the tiny fixture) — keys
 *    `backbone.conv_encoder.model.{embedder,encoder.stages.*}`.
 */
import { LogolabError } from '../errors.js';

export type BackboneKind = 'timm' | 'hf';

export interface ResNetSpec {
  kind: BackboneKind;
  /** stem conv output channels (64 for resnet50) */
  stemChannels: number;
  /** bottleneck blocks per stage */
  depths: number[];
  /** output channels per stage (256, 512, 1024, 2048 for resnet50) */
  outChannels: number[];
  /** 3×3 conv channels per stage (out / 4) */
  midChannels: number[];
  /** stride of each stage's first block */
  strides: number[];
  /** HF ResNet `downsample_in_bottleneck`: stride on the first 1×1 instead of the 3×3 */
  strideOnFirst1x1: boolean;
}

export interface DetrConfig {
  backbone: ResNetSpec;
  dModel: number;
  encoderLayers: number;
  decoderLayers: number;
  encoderHeads: number;
  decoderHeads: number;
  encoderFfn: number;
  decoderFfn: number;
  numQueries: number;
  /** real classes, without the no-object class */
  numLabels: number;
  id2label: Record<number, string>;
  /** the config.json it came from */
  raw: Record<string, unknown>;
}

const RESNET_DEPTHS: Record<string, number[]> = {
  resnet18: [2, 2, 2, 2],
  resnet34: [3, 4, 6, 3],
  resnet50: [3, 4, 6, 3],
  resnet101: [3, 4, 23, 3],
  resnet152: [3, 8, 36, 3],
};

function num(cfg: Record<string, unknown>, key: string, src: string, dflt?: number): number {
  const v = cfg[key] ?? dflt;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new LogolabError(`${src}: field '${key}' must be a number (got ${JSON.stringify(v)})`);
  return v;
}

function timmSpec(name: string, src: string): ResNetSpec {
  const depths = RESNET_DEPTHS[name];
  if (!depths || name === 'resnet18' || name === 'resnet34') {
    throw new LogolabError(`${src}: backbone '${name}' is not supported (bottleneck ResNets: resnet50, resnet101, resnet152)`);
  }
  const outChannels = [256, 512, 1024, 2048];
  return { kind: 'timm', stemChannels: 64, depths, outChannels, midChannels: outChannels.map((c) => c / 4), strides: [1, 2, 2, 2], strideOnFirst1x1: false };
}

function hfResNetSpec(bc: Record<string, unknown>, src: string): ResNetSpec {
  if (bc.layer_type !== undefined && bc.layer_type !== 'bottleneck') throw new LogolabError(`${src}: backbone_config.layer_type '${String(bc.layer_type)}' is not supported (bottleneck only)`);
  const depths = bc.depths as number[] | undefined;
  const hidden = bc.hidden_sizes as number[] | undefined;
  if (!Array.isArray(depths) || !Array.isArray(hidden) || depths.length !== hidden.length) throw new LogolabError(`${src}: backbone_config needs 'depths' and 'hidden_sizes' of equal length`);
  const outF = bc.out_features as string[] | undefined;
  if (Array.isArray(outF) && outF.length && outF[outF.length - 1] !== `stage${depths.length}`) {
    throw new LogolabError(`${src}: backbone_config.out_features must end with the last stage 'stage${depths.length}' (got ${JSON.stringify(outF)})`);
  }
  const firstDown = bc.downsample_in_first_stage === true;
  return {
    kind: 'hf',
    stemChannels: num(bc, 'embedding_size', `${src} backbone_config`, 64),
    depths,
    outChannels: hidden,
    midChannels: hidden.map((c) => Math.floor(c / 4)),
    strides: depths.map((_, i) => (i === 0 ? (firstDown ? 2 : 1) : 2)),
    strideOnFirst1x1: bc.downsample_in_bottleneck === true,
  };
}

/** Parses a DetrConfig; `src` names the file in errors. */
export function detrConfigFromJson(cfg: Record<string, unknown>, src = 'config.json'): DetrConfig {
  if (cfg.model_type !== 'detr') {
    throw new LogolabError(`${src}: model_type '${String(cfg.model_type)}' is not a DETR checkpoint (expected 'detr', DetrForObjectDetection)`);
  }
  const arch = cfg.architectures as string[] | null | undefined;
  if (Array.isArray(arch) && arch.length && !arch.includes('DetrForObjectDetection')) {
    throw new LogolabError(`${src}: architectures ${JSON.stringify(arch)} — only DetrForObjectDetection is supported`);
  }
  if ((cfg.position_embedding_type ?? 'sine') !== 'sine') throw new LogolabError(`${src}: position_embedding_type '${String(cfg.position_embedding_type)}' is not supported (sine only)`);
  if (cfg.dilation === true) throw new LogolabError(`${src}: dilation=true (DC5 backbone) is not supported`);
  if ((cfg.activation_function ?? 'relu') !== 'relu') throw new LogolabError(`${src}: activation_function '${String(cfg.activation_function)}' is not supported (relu only)`);
  const bc = (cfg.backbone_config ?? null) as Record<string, unknown> | null;
  let backbone: ResNetSpec;
  if (bc && bc.model_type === 'resnet') backbone = hfResNetSpec(bc, src);
  else if (bc && bc.model_type === 'timm_backbone') backbone = timmSpec(String(bc.backbone ?? cfg.backbone ?? 'resnet50'), src);
  else if (!bc && (cfg.use_timm_backbone === true || typeof cfg.backbone === 'string')) backbone = timmSpec(String(cfg.backbone ?? 'resnet50'), src);
  else throw new LogolabError(`${src}: backbone_config.model_type '${String(bc?.model_type)}' is not supported (resnet or timm resnet50/101)`);
  // HF's PretrainedConfig: without id2label, num_labels (default 2) labels LABEL_0… — and
  // save_pretrained leaves out an id2label equal to that default, so a 2-class fine-tune saved
  // without label names has none
  const id2label: Record<number, string> = {};
  if (cfg.id2label === undefined || cfg.id2label === null) {
    const n = num(cfg, 'num_labels', src, 2);
    if (!(Number.isInteger(n) && n >= 1)) throw new LogolabError(`${src}: field 'num_labels' must be a positive integer (got ${JSON.stringify(cfg.num_labels)})`);
    for (let i = 0; i < n; i++) id2label[i] = `LABEL_${i}`;
  } else {
    for (const [k, v] of Object.entries(cfg.id2label as Record<string, string>)) id2label[Number(k)] = String(v);
  }
  const numLabels = Object.keys(id2label).length;
  const c: DetrConfig = {
    backbone,
    dModel: num(cfg, 'd_model', src, 256),
    encoderLayers: num(cfg, 'encoder_layers', src, 6),
    decoderLayers: num(cfg, 'decoder_layers', src, 6),
    encoderHeads: num(cfg, 'encoder_attention_heads', src, 8),
    decoderHeads: num(cfg, 'decoder_attention_heads', src, 8),
    encoderFfn: num(cfg, 'encoder_ffn_dim', src, 2048),
    decoderFfn: num(cfg, 'decoder_ffn_dim', src, 2048),
    numQueries: num(cfg, 'num_queries', src, 100),
    numLabels,
    id2label,
    raw: cfg,
  };
  if (c.dModel % c.encoderHeads || c.dModel % c.decoderHeads) throw new LogolabError(`${src}: d_model ${c.dModel} is not divisible by the attention heads`);
  return c;
}
