"""A plain-PyTorch reference of the vision towers logolab runs (transformers is not installable
here), written step by step after transformers' modeling_clip.py, modeling_siglip.py and
modeling_dinov2.py (5.x), including their `interpolate_pos_encoding` and Dinov2SwiGLUFFN.

    /usr/bin/python3 scripts/torch_ref/vision_reference.py

1. checks the reference against the transformers-made fixtures at their own sizes
   (test/fixtures/{clip,siglip,dinov2}_tiny/io.safetensors; dinov2 at 32 px is already interpolated);
2. writes test/fixtures/generated/interp/{clip,siglip}_io.safetensors: clip_tiny / siglip_tiny
   outputs at other input sizes (interpolate_pos_encoding=True);
3. writes test/fixtures/generated/dinov2_swiglu/: a tiny random Dinov2Model with use_swiglu_ffn
   (model/config.json + model.safetensors) and its outputs at its own size and interpolated.
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
FIX = os.path.join(ROOT, 'test', 'fixtures')
GEN = os.path.join(FIX, 'generated')
torch.set_grad_enabled(False)

ACT = {
    'quick_gelu': lambda x: x * torch.sigmoid(1.702 * x),
    'gelu': lambda x: F.gelu(x),
    'gelu_pytorch_tanh': lambda x: F.gelu(x, approximate='tanh'),
}


def linear(w, name, x):
    return F.linear(x, w[f'{name}.weight'], w.get(f'{name}.bias'))


def layer_norm(w, name, x, eps):
    return F.layer_norm(x, (x.shape[-1],), w[f'{name}.weight'], w[f'{name}.bias'], eps)


def attention(w, q_name, k_name, v_name, o_name, x, heads):
    """eager_attention_forward: softmax(q·kᵀ·scale)·v over heads, then the output projection."""
    b, t, d = x.shape
    hd = d // heads
    q = linear(w, q_name, x).view(b, t, -1, hd).transpose(1, 2)
    k = linear(w, k_name, x).view(b, t, -1, hd).transpose(1, 2)
    v = linear(w, v_name, x).view(b, t, -1, hd).transpose(1, 2)
    a = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * hd ** -0.5, dim=-1, dtype=torch.float32)
    o = torch.matmul(a, v).transpose(1, 2).reshape(b, t, -1)
    return linear(w, o_name, o)


def interpolate_grid(patch_pos_embed, num_positions, dim, new_height, new_width):
    """The shared core of the three interpolate_pos_encoding methods."""
    sqrt_num_positions = int(num_positions ** 0.5)
    patch_pos_embed = patch_pos_embed.reshape(1, sqrt_num_positions, sqrt_num_positions, dim)
    patch_pos_embed = patch_pos_embed.permute(0, 3, 1, 2)
    patch_pos_embed = F.interpolate(patch_pos_embed, size=(new_height, new_width), mode='bicubic', align_corners=False)
    return patch_pos_embed.permute(0, 2, 3, 1).reshape(1, -1, dim)


# ---------------- CLIP (CLIPVisionEmbeddings, CLIPEncoderLayer, CLIPVisionTransformer) ----------------

def clip_forward(w, c, pixel_values, proj):
    p, d = c['patch_size'], c['hidden_size']
    batch_size, _, height, width = pixel_values.shape
    patch_embeds = F.conv2d(pixel_values, w['embeddings.patch_embedding.weight'], stride=p)
    patch_embeds = patch_embeds.flatten(2).transpose(1, 2)
    class_embeds = w['embeddings.class_embedding'].expand(batch_size, 1, -1)
    embeddings = torch.cat([class_embeds, patch_embeds], dim=1)
    # interpolate_pos_encoding(embeddings, height, width)
    num_patches = embeddings.shape[1] - 1
    position_embedding = w['embeddings.position_embedding.weight'].unsqueeze(0)
    num_positions = position_embedding.shape[1] - 1
    if num_patches == num_positions and height == width:
        pos = position_embedding
    else:
        class_pos_embed = position_embedding[:, :1]
        patch_pos = interpolate_grid(position_embedding[:, 1:], num_positions, d, height // p, width // p)
        pos = torch.cat((class_pos_embed, patch_pos), dim=1)
    h = embeddings + pos
    h = layer_norm(w, 'pre_layrnorm', h, c['layer_norm_eps'])
    hidden = [h]
    for i in range(c['num_hidden_layers']):
        l = f'encoder.layers.{i}'
        r = h
        h = layer_norm(w, f'{l}.layer_norm1', h, c['layer_norm_eps'])
        h = r + attention(w, f'{l}.self_attn.q_proj', f'{l}.self_attn.k_proj', f'{l}.self_attn.v_proj', f'{l}.self_attn.out_proj', h, c['num_attention_heads'])
        r = h
        h = layer_norm(w, f'{l}.layer_norm2', h, c['layer_norm_eps'])
        h = r + linear(w, f'{l}.mlp.fc2', ACT[c['hidden_act']](linear(w, f'{l}.mlp.fc1', h)))
        hidden.append(h)
    pooled = layer_norm(w, 'post_layernorm', h[:, 0, :], c['layer_norm_eps'])
    return {'last_hidden_state': h, 'pooler_output': pooled, 'image_embeds': F.linear(pooled, proj), 'hidden_states': hidden}


# ---------------- SigLIP (SiglipVisionEmbeddings, SiglipMultiheadAttentionPoolingHead) ----------------

def siglip_forward(w, c, pixel_values):
    p, d = c['patch_size'], c['hidden_size']
    _, _, height, width = pixel_values.shape
    embeddings = F.conv2d(pixel_values, w['embeddings.patch_embedding.weight'], w['embeddings.patch_embedding.bias'], stride=p)
    embeddings = embeddings.flatten(2).transpose(1, 2)
    num_patches = embeddings.shape[1]
    num_positions = w['embeddings.position_embedding.weight'].shape[0]
    if num_patches == num_positions and height == width:
        pos = w['embeddings.position_embedding.weight'].unsqueeze(0)
    else:
        pos = interpolate_grid(w['embeddings.position_embedding.weight'].unsqueeze(0), num_positions, d, height // p, width // p)
    h = embeddings + pos
    eps = c['layer_norm_eps']
    for i in range(c['num_hidden_layers']):
        l = f'encoder.layers.{i}'
        r = h
        h = layer_norm(w, f'{l}.layer_norm1', h, eps)
        h = r + attention(w, f'{l}.self_attn.q_proj', f'{l}.self_attn.k_proj', f'{l}.self_attn.v_proj', f'{l}.self_attn.out_proj', h, c['num_attention_heads'])
        r = h
        h = layer_norm(w, f'{l}.layer_norm2', h, eps)
        h = r + linear(w, f'{l}.mlp.fc2', ACT[c['hidden_act']](linear(w, f'{l}.mlp.fc1', h)))
    last = layer_norm(w, 'post_layernorm', h, eps)
    # head: nn.MultiheadAttention(probe, last, last), then residual + mlp(layernorm(.)), token 0
    mha = torch.nn.MultiheadAttention(d, c['num_attention_heads'], batch_first=True)
    mha.in_proj_weight.copy_(w['head.attention.in_proj_weight'])
    mha.in_proj_bias.copy_(w['head.attention.in_proj_bias'])
    mha.out_proj.weight.copy_(w['head.attention.out_proj.weight'])
    mha.out_proj.bias.copy_(w['head.attention.out_proj.bias'])
    mha.eval()
    probe = w['head.probe'].repeat(last.shape[0], 1, 1)
    a = mha(probe, last, last, need_weights=False)[0]
    x = a + linear(w, 'head.mlp.fc2', ACT[c['hidden_act']](linear(w, 'head.mlp.fc1', layer_norm(w, 'head.layernorm', a, eps))))
    return {'last_hidden_state': last, 'pooler_output': x[:, 0]}


# ---------------- DINOv2 (Dinov2Embeddings, Dinov2Layer, Dinov2MLP / Dinov2SwiGLUFFN) ----------------

def dinov2_forward(w, c, pixel_values):
    p, d = c['patch_size'], c['hidden_size']
    batch_size, _, height, width = pixel_values.shape
    embeddings = F.conv2d(pixel_values, w['embeddings.patch_embeddings.projection.weight'], w['embeddings.patch_embeddings.projection.bias'], stride=p)
    embeddings = embeddings.flatten(2).transpose(1, 2)
    embeddings = torch.cat((w['embeddings.cls_token'].expand(batch_size, -1, -1), embeddings), dim=1)
    position_embeddings = w['embeddings.position_embeddings']
    num_patches = embeddings.shape[1] - 1
    num_positions = position_embeddings.shape[1] - 1
    if num_patches == num_positions and height == width:
        pos = position_embeddings
    else:
        patch_pos = interpolate_grid(position_embeddings[:, 1:], num_positions, d, height // p, width // p)
        pos = torch.cat((position_embeddings[:, :1], patch_pos), dim=1)
    h = embeddings + pos
    eps = c['layer_norm_eps']
    for i in range(c['num_hidden_layers']):
        l = f'encoder.layer.{i}'
        a = attention(w, f'{l}.attention.attention.query', f'{l}.attention.attention.key', f'{l}.attention.attention.value', f'{l}.attention.output.dense', layer_norm(w, f'{l}.norm1', h, eps), c['num_attention_heads'])
        h = a * w[f'{l}.layer_scale1.lambda1'] + h
        x = layer_norm(w, f'{l}.norm2', h, eps)
        if c.get('use_swiglu_ffn'):
            x = linear(w, f'{l}.mlp.weights_in', x)
            x1, x2 = x.chunk(2, dim=-1)
            x = linear(w, f'{l}.mlp.weights_out', F.silu(x1) * x2)
        else:
            x = linear(w, f'{l}.mlp.fc2', ACT[c['hidden_act']](linear(w, f'{l}.mlp.fc1', x)))
        h = x * w[f'{l}.layer_scale2.lambda1'] + h
    last = layer_norm(w, 'layernorm', h, eps)
    return {'last_hidden_state': last, 'pooler_output': last[:, 0]}


def load(name):
    d = os.path.join(FIX, name, 'model')
    with open(os.path.join(d, 'config.json')) as f:
        cfg = json.load(f)
    w, _ = st.read(os.path.join(d, 'model.safetensors'))
    return cfg, w


def strip(w, prefix):
    return {k[len(prefix):]: v for k, v in w.items() if k.startswith(prefix)}


def max_err(a, b):
    return (a - b).abs().max().item()


def check(what, got, want, tol=2e-5):
    e = max_err(got, want)
    print(f'  reference vs transformers fixture: {what} max abs err {e:.2e}')
    if not e <= tol:
        raise SystemExit(f'reference does not reproduce the fixture: {what} {e}')


def main():
    os.makedirs(os.path.join(GEN, 'interp'), exist_ok=True)
    g = torch.Generator().manual_seed(1234)
    sizes = [(48, 48), (24, 24), (40, 56), (36, 36)]

    # CLIP
    top, wall = load('clip_tiny')
    c = dict(top['vision_config'])
    for k, v in [('hidden_act', 'quick_gelu'), ('layer_norm_eps', 1e-5)]:
        c.setdefault(k, v)
    w = strip(wall, 'vision_model.')
    proj = wall['visual_projection.weight']
    io, _ = st.read(os.path.join(FIX, 'clip_tiny', 'io.safetensors'))
    print('clip_tiny')
    r = clip_forward(w, c, io['pixel_values'], proj)
    for k in ['last_hidden_state', 'pooler_output', 'image_embeds']:
        check(k, r[k], io[k])
    for i, hs in enumerate(r['hidden_states']):
        check(f'hidden_states.{i}', hs, io[f'hidden_states.{i}'])
    out = {}
    for hgt, wid in sizes:
        px = torch.randn(2, 3, hgt, wid, generator=g)
        r = clip_forward(w, c, px, proj)
        tag = f'{hgt}x{wid}'
        out[f'pixel_values_{tag}'] = px
        for k in ['last_hidden_state', 'pooler_output', 'image_embeds']:
            out[f'{k}_{tag}'] = r[k]
    st.write(os.path.join(GEN, 'interp', 'clip_io.safetensors'), out, {'made_by': f'scripts/torch_ref/vision_reference.py, torch {torch.__version__}'})

    # SigLIP
    c, w = load('siglip_tiny')
    io, _ = st.read(os.path.join(FIX, 'siglip_tiny', 'io.safetensors'))
    print('siglip_tiny')
    r = siglip_forward(strip(w, 'vision_model.') if any(k.startswith('vision_model.') for k in w) else w, c, io['pixel_values'])
    for k in ['last_hidden_state', 'pooler_output']:
        check(k, r[k], io[k])
    ws = strip(w, 'vision_model.') if any(k.startswith('vision_model.') for k in w) else w
    out = {}
    for hgt, wid in sizes:
        px = torch.randn(2, 3, hgt, wid, generator=g)
        r = siglip_forward(ws, c, px)
        tag = f'{hgt}x{wid}'
        out[f'pixel_values_{tag}'] = px
        for k in ['last_hidden_state', 'pooler_output']:
            out[f'{k}_{tag}'] = r[k]
    st.write(os.path.join(GEN, 'interp', 'siglip_io.safetensors'), out, {'made_by': f'scripts/torch_ref/vision_reference.py, torch {torch.__version__}'})

    # DINOv2: the reference at 40 px (its own size) and 32 px (interpolated by transformers)
    c, w = load('dinov2_tiny')
    io, _ = st.read(os.path.join(FIX, 'dinov2_tiny', 'io.safetensors'))
    print('dinov2_tiny')
    for s in [32, 40]:
        r = dinov2_forward(w, c, io[f'pixel_values_{s}'])
        check(f'{s}px last_hidden_state', r['last_hidden_state'], io[f'last_hidden_state_{s}'])
        check(f'{s}px pooler_output', r['pooler_output'], io[f'pooler_output_{s}'])

    # a tiny random DINOv2 with the SwiGLU MLP (dinov2-giant's use_swiglu_ffn)
    d, layers, ratio, patch, image = 64, 2, 4, 8, 32
    hidden = (int(int(d * ratio) * 2 / 3) + 7) // 8 * 8  # Dinov2SwiGLUFFN
    n = (image // patch) ** 2
    rnd = lambda *shape, s=0.1: torch.randn(*shape, generator=g) * s  # noqa: E731
    w = {
        'embeddings.cls_token': rnd(1, 1, d, s=0.5),
        'embeddings.mask_token': torch.zeros(1, d),
        'embeddings.position_embeddings': rnd(1, n + 1, d, s=0.5),
        'embeddings.patch_embeddings.projection.weight': rnd(d, 3, patch, patch, s=0.05),
        'embeddings.patch_embeddings.projection.bias': rnd(d),
        'layernorm.weight': 1 + rnd(d), 'layernorm.bias': rnd(d),
    }
    for i in range(layers):
        l = f'encoder.layer.{i}'
        for m in ['attention.attention.query', 'attention.attention.key', 'attention.attention.value', 'attention.output.dense']:
            w[f'{l}.{m}.weight'] = rnd(d, d, s=d ** -0.5)
            w[f'{l}.{m}.bias'] = rnd(d)
        w[f'{l}.mlp.weights_in.weight'] = rnd(2 * hidden, d, s=d ** -0.5)
        w[f'{l}.mlp.weights_in.bias'] = rnd(2 * hidden)
        w[f'{l}.mlp.weights_out.weight'] = rnd(d, hidden, s=hidden ** -0.5)
        w[f'{l}.mlp.weights_out.bias'] = rnd(d)
        for nrm in ['norm1', 'norm2']:
            w[f'{l}.{nrm}.weight'] = 1 + rnd(d)
            w[f'{l}.{nrm}.bias'] = rnd(d)
        w[f'{l}.layer_scale1.lambda1'] = 0.5 + rnd(d)
        w[f'{l}.layer_scale2.lambda1'] = 0.5 + rnd(d)
    cfg = {
        'architectures': ['Dinov2Model'], 'model_type': 'dinov2', 'hidden_size': d, 'num_hidden_layers': layers, 'num_attention_heads': 4,
        'mlp_ratio': ratio, 'use_swiglu_ffn': True, 'hidden_act': 'gelu', 'patch_size': patch, 'image_size': image, 'num_channels': 3,
        'layer_norm_eps': 1e-6, 'layerscale_value': 1.0, 'qkv_bias': True, 'apply_layernorm': True,
    }
    mdir = os.path.join(GEN, 'dinov2_swiglu', 'model')
    os.makedirs(mdir, exist_ok=True)
    with open(os.path.join(mdir, 'config.json'), 'w') as f:
        json.dump(cfg, f, indent=2)
    st.write(os.path.join(mdir, 'model.safetensors'), w, {'format': 'pt'})
    out = {}
    for s in [32, 48]:
        px = torch.randn(2, 3, s, s, generator=g)
        r = dinov2_forward(w, cfg, px)
        out[f'pixel_values_{s}'] = px
        out[f'last_hidden_state_{s}'] = r['last_hidden_state']
        out[f'pooler_output_{s}'] = r['pooler_output']
    st.write(os.path.join(GEN, 'dinov2_swiglu', 'io.safetensors'), out, {'made_by': f'scripts/torch_ref/vision_reference.py, torch {torch.__version__}', 'swiglu_hidden': str(hidden)})
    print(f'wrote {GEN}/interp and {GEN}/dinov2_swiglu (SwiGLU hidden {hidden}) with torch {torch.__version__}')


if __name__ == '__main__':
    main()
