import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdentityPool, processesOf } from '../../../runner/sandbox/identity';

/** A status file as Linux writes it: the Uid line (real, effective, saved, fs) ninth. */
const status = (uids: [number, number, number, number], padding = 0) =>
  [
    'Name:\tnode',
    'Umask:\t0022',
    'State:\tS (sleeping)',
    'Tgid:\t12',
    'Ngid:\t0',
    'Pid:\t12',
    'PPid:\t1',
    'TracerPid:\t0',
    `Uid:\t${uids.join('\t')}`,
    `Gid:\t${uids.join('\t')}`,
    ...Array.from({ length: padding }, (_, i) => `Filler${i}:\t${'x'.repeat(60)}`),
  ].join('\n') + '\n';

describe('processesOf: the processes running under a uid, from /proc', () => {
  let proc: string;
  beforeEach(() => {
    proc = mkdtempSync(join(tmpdir(), 'fake-proc-'));
    const add = (pid: string, text?: string) => {
      mkdirSync(join(proc, pid));
      if (text !== undefined) writeFileSync(join(proc, pid, 'status'), text);
    };
    add('12', status([61000, 61000, 61000, 61000], 40)); // a long status file: only its head is read
    add('34', status([0, 0, 0, 0]));
    add('56', status([0, 61000, 0, 0])); // effective uid only (a setuid program run by the sandbox)
    add('78'); // gone between the listing and the read
    add('self', status([61000, 61000, 61000, 61000])); // not a pid
  });
  afterEach(() => rmSync(proc, { recursive: true, force: true }));

  it('finds a process by its real, effective or saved uid, and skips non-pids and processes gone meanwhile', () => {
    expect(processesOf(61000, proc).sort()).toEqual([12, 56]);
    expect(processesOf(0, proc).sort()).toEqual([34, 56]);
    expect(processesOf(61001, proc)).toEqual([]);
  });

  it('finds nothing, without throwing, where there is no /proc', () => {
    expect(processesOf(61000, join(proc, 'missing'))).toEqual([]);
  });
});

describe('IdentityPool', () => {
  it('hands out a uid no live sandbox has and no process runs under, round-robin', () => {
    const busy = new Set([61001]);
    const pool = new IdentityPool({ first: 61000, last: 61003 }, 0, (uid) => (busy.has(uid) ? [999] : []));
    const a = pool.acquire();
    const b = pool.acquire();
    expect([a.uid, b.uid]).toEqual([61000, 61002]);
    expect(a.gid).toBe(a.uid);
    pool.release(a);
    // 61000 was released, but the cursor moves on first: a released uid rests before reuse.
    expect(pool.acquire().uid).toBe(61003);
    expect(pool.acquire().uid).toBe(61000);
  });

  it('says which setting to widen once every uid is taken', () => {
    const pool = new IdentityPool({ first: 61000, last: 61001 }, 0, () => []);
    pool.acquire();
    pool.acquire();
    expect(() => pool.acquire()).toThrow(/all 2 sandbox uids \(61000-61001\) are in use; widen RUNNER_SANDBOX_UIDS/);
  });
});
