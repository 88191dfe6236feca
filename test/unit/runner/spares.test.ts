import { sparesFor } from '../../../runner/sandbox/spares';

describe('sparesFor', () => {
  const base = { now: 10_000, windowMs: 5000, bootMs: 100, min: 1, max: 8 };

  it('keeps the minimum while idle', () => {
    expect(sparesFor({ ...base, takes: [] })).toBe(1);
    expect(sparesFor({ ...base, takes: [1000, 2000] })).toBe(1);
  });

  it('covers twice the sandboxes taken while one boots', () => {
    // 100 takes in 5 s = 20/s; a 100 ms boot sees 2 taken meanwhile: 4 spares.
    const takes = Array.from({ length: 100 }, (_, i) => 5001 + i * 50);
    expect(sparesFor({ ...base, takes })).toBe(4);
    expect(sparesFor({ ...base, takes, bootMs: 400 })).toBe(8);
  });

  it('never keeps more than the maximum', () => {
    const takes = Array.from({ length: 1000 }, (_, i) => 5001 + i * 5);
    expect(sparesFor({ ...base, takes })).toBe(8);
  });
});
