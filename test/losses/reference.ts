/**
 * Loop-based reference losses in float64, written straight from the definitions (one anchor at a
 * time, no masks), to check the vectorised tf implementations on arbitrary batches.
 * e: rows already L2-normalised.
 */
export type Rows = number[][];

const dot = (a: number[], b: number[]) => a.reduce((s, v, k) => s + v * b[k]!, 0);

/** −mean over positives of log softmax over the non-self entries, per anchor (null: no positive). */
function anchorLogSoftmaxLosses(e: Rows, labels: ArrayLike<number>, t: number): (number | null)[] {
  const n = e.length;
  return Array.from({ length: n }, (_, i) => {
    const others: number[] = [];
    for (let j = 0; j < n; j++) if (j !== i) others.push(dot(e[i]!, e[j]!) / t);
    const mx = Math.max(...others);
    const lse = mx + Math.log(others.reduce((s, v) => s + Math.exp(v - mx), 0));
    let sum = 0;
    let cnt = 0;
    for (let j = 0; j < n; j++) {
      if (j === i || labels[j] !== labels[i]) continue;
      sum += dot(e[i]!, e[j]!) / t - lse;
      cnt++;
    }
    return cnt > 0 ? -sum / cnt : null;
  });
}

export function refInfonce(e: Rows, labels: ArrayLike<number>, t: number): number {
  const n = e.length;
  if (n <= 1) return 0;
  const per = anchorLogSoftmaxLosses(e, labels, t);
  // mean over ALL anchors (one without positives adds 0), 0 when none has one
  return per.some((l) => l !== null) ? per.reduce<number>((s, l) => s + (l ?? 0), 0) / n : 0;
}

/** MIL-NCE: −log of the summed softmax probability of the positives; mean over ALL anchors. */
export function refMilnce(e: Rows, labels: ArrayLike<number>, t: number): number {
  const n = e.length;
  if (n <= 1) return 0;
  // −log(Σ_pos exp / Σ_all exp) as log-sum-exps (each shifted by its max), so that a low
  // temperature (cosine / 1e-4) neither overflows exp nor underflows the positives' sum
  const lse = (v: number[]) => {
    const mx = Math.max(...v);
    return mx + Math.log(v.reduce((s, x) => s + Math.exp(x - mx), 0));
  };
  let total = 0;
  for (let i = 0; i < n; i++) {
    const all: number[] = [];
    const pos: number[] = [];
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const z = dot(e[i]!, e[j]!) / t;
      all.push(z);
      if (labels[j] === labels[i]) pos.push(z);
    }
    if (pos.length) total += lse(all) - lse(pos);
  }
  return total / n;
}

/** SupCon (L_out) from its definition: −mean over positives of log softmax over the non-self entries; mean over anchors WITH positives. */
export function refSupcon(e: Rows, labels: ArrayLike<number>, t: number): number {
  if (e.length <= 1) return 0;
  const per = anchorLogSoftmaxLosses(e, labels, t).filter((l): l is number => l !== null);
  return per.length ? per.reduce((s, l) => s + l, 0) / per.length : 0;
}

/**
 * SupCon with the Python original's numerics (the losses fixtures were made with them): the row
 * max includes self and 1e-8 is added inside the log, which biases the value when the non-self
 * terms are small (low temperature). Only to tell that bias apart from our error.
 */
export function refSupconPython(e: Rows, labels: ArrayLike<number>, t: number): number {
  const n = e.length;
  if (n <= 1) return 0;
  let total = 0;
  let anchors = 0;
  for (let i = 0; i < n; i++) {
    const row = e.map((x) => dot(e[i]!, x) / t);
    const mx = Math.max(...row); // includes self, as the reference
    let denom = 0;
    for (let j = 0; j < n; j++) if (j !== i) denom += Math.exp(row[j]! - mx);
    const logDen = Math.log(denom + 1e-8);
    let sum = 0;
    let cnt = 0;
    for (let j = 0; j < n; j++) {
      if (j === i || labels[j] !== labels[i]) continue;
      sum += row[j]! - mx - logDen;
      cnt++;
    }
    if (cnt > 0) {
      total += -sum / (cnt + 1e-8);
      anchors++;
    }
  }
  return anchors ? total / anchors : 0;
}

export function refTriplet(e: Rows, labels: ArrayLike<number>, margin: number): number {
  const n = e.length;
  let total = 0;
  let anchors = 0;
  for (let i = 0; i < n; i++) {
    let hp = -Infinity;
    let hn = Infinity;
    for (let j = 0; j < n; j++) {
      const d = 1 - dot(e[i]!, e[j]!);
      if (labels[j] === labels[i]) {
        if (j !== i) hp = Math.max(hp, d);
      } else hn = Math.min(hn, d);
    }
    if (hp === -Infinity || hn === Infinity) continue;
    total += Math.max(0, hp - hn + margin);
    anchors++;
  }
  return anchors ? total / anchors : 0;
}

export function refCombined(e: Rows, labels: ArrayLike<number>, t: number, margin: number): number {
  return refInfonce(e, labels, t) + 0.5 * refTriplet(e, labels, margin);
}

export function normalizeRows(raw: ArrayLike<number>, n: number, d: number): Rows {
  const out: Rows = [];
  for (let i = 0; i < n; i++) {
    const r = Array.from({ length: d }, (_, k) => raw[i * d + k]!);
    const norm = Math.max(Math.sqrt(dot(r, r)), 1e-12);
    out.push(r.map((v) => v / norm));
  }
  return out;
}
