/**
 * Every random choice goes through a seeded generator (seedrandom's alea: fast, same stream on
 * every machine, state can be saved into checkpoints and restored).
 */
import seedrandom from 'seedrandom';

export interface Rng {
  /** uniform [0, 1) */
  next(): number;
  /** integer in [0, n) */
  int(n: number): number;
  /** uniform [a, b) */
  uniform(a: number, b: number): number;
  /** standard normal (Box–Muller) */
  normal(): number;
  /** 31-bit integer seed for tf ops that take a seed */
  seed(): number;
  /** Fisher–Yates in place */
  shuffle<T>(a: T[]): T[];
  /** opaque state for checkpoints */
  state(): object;
}

export function makeRng(seed: number | string, state?: object): Rng {
  // @types/seedrandom omits the state API that alea has at run time.
  type StatefulPrng = (() => number) & { state(): object };
  const alea = seedrandom.alea as unknown as (seed: string, opts: { state: boolean | object }) => StatefulPrng;
  const prng = alea(String(seed), { state: state ?? true });
  const next = () => prng();
  const rng: Rng = {
    next,
    int: (n) => Math.floor(next() * n),
    uniform: (a, b) => a + (b - a) * next(),
    normal: () => {
      let u = 0;
      while (u === 0) u = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
    },
    seed: () => Math.floor(next() * 0x7fffffff),
    shuffle: (a) => {
      for (let i = a.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [a[i], a[j]] = [a[j]!, a[i]!];
      }
      return a;
    },
    state: () => prng.state(),
  };
  return rng;
}
