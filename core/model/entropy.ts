import { randomBytes } from 'node:crypto';

/**
 * Where ids and tokens get their randomness. Production uses the OS's; the simulation installs
 * a seeded generator for the length of a run, so a seed replays every id, token and decision.
 */
export type RandomSource = () => number;

const cryptoRandom: RandomSource = () => randomBytes(4).readUInt32BE(0) / 2 ** 32;
let current: RandomSource = cryptoRandom;

/** A value in [0, 1) from the current source. */
export const random = (): number => current();

/** Random bytes from the current source. */
export function randomBytesOf(n: number): Buffer {
  if (current === cryptoRandom) return randomBytes(n);
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(current() * 256);
  return out;
}

/** Installs `source` until the returned function is called (then the previous one is back). */
export function useRandomSource(source: RandomSource): () => void {
  const previous = current;
  current = source;
  return () => {
    current = previous;
  };
}
