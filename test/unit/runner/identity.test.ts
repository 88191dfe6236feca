import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { IdentityPool, processesIn, processesOf, uidBlockSize } from '../../../runner/sandbox/identity';
import { claimUidBlock, uidBlocks } from '../../../runner/sandbox/uid-block';

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

  it('finds every process under a range of uids (the sweep of a block taken over)', () => {
    expect(processesIn({ first: 60000, last: 61000 }, proc).sort()).toEqual([12, 56]);
    expect(processesIn({ first: 0, last: 70000 }, proc).sort()).toEqual([12, 34, 56]);
  });

  it('finds nothing, without throwing, where there is no /proc', () => {
    expect(processesOf(61000, join(proc, 'missing'))).toEqual([]);
  });
});

describe('IdentityPool: the uids of one runner\'s block', () => {
  let proc: string;
  beforeEach(() => (proc = mkdtempSync(join(tmpdir(), 'fake-proc-'))));
  afterEach(() => rmSync(proc, { recursive: true, force: true }));

  it('hands out a uid no live sandbox of its own has, round-robin, so a released uid rests before reuse', () => {
    const pool = new IdentityPool({ first: 70000, last: 70002 }, { proc });
    const a = pool.acquire();
    const b = pool.acquire();
    expect([a.uid, b.uid]).toEqual([70000, 70001]);
    expect(a.gid).toBe(a.uid);
    pool.release(a);
    expect(pool.acquire().uid).toBe(70002);
    expect(pool.acquire().uid).toBe(70000);
  });

  it('says which setting to widen once every uid of its block is taken', () => {
    const pool = new IdentityPool({ first: 70000, last: 70001 }, { proc });
    pool.acquire();
    pool.acquire();
    expect(() => pool.acquire()).toThrow(/all 2 sandbox uids of this runner's block \(70000-70001\) are in use; widen RUNNER_SANDBOX_UIDS/);
  });

  it('blocks hold twice the sandboxes a runner can have alive at once, 64 at least', () => {
    expect(uidBlockSize(4, 1)).toBe(64);
    expect(uidBlockSize(40, 10)).toBe(102);
  });
});

// Real abstract sockets (Linux), under a prefix of this test's own, so no runner's claim is touched.
const linux = process.platform === 'linux' ? describe : describe.skip;
linux('claimUidBlock: a block of the range per runner on a host', () => {
  const prefix = `jobfleet-test-uids-${process.pid}-${Date.now()}`;
  const range = { first: 70000, last: 70199 };

  it('splits the range into blocks; the last may be shorter', () => {
    expect(uidBlocks(range, 64)).toEqual([
      { first: 70000, last: 70063 },
      { first: 70064, last: 70127 },
      { first: 70128, last: 70191 },
      { first: 70192, last: 70199 },
    ]);
    expect(uidBlocks({ first: 70000, last: 70009 }, 64)).toEqual([{ first: 70000, last: 70009 }]);
  });

  it('gives two runners disjoint blocks, and a released block to the next runner', async () => {
    const a = await claimUidBlock(range, 100, prefix);
    const b = await claimUidBlock(range, 100, prefix);
    expect([a.range, b.range]).toEqual([
      { first: 70000, last: 70099 },
      { first: 70100, last: 70199 },
    ]);
    await expect(claimUidBlock(range, 100, prefix)).rejects.toThrow(/every block of 100 uids in 70000-70199 \(2 blocks\) is held by another runner on this host; widen the range or run fewer runners here/);
    a.release();
    a.release();
    const c = await claimUidBlock(range, 100, prefix);
    expect(c.range).toEqual({ first: 70000, last: 70099 });
    b.release();
    c.release();
  });

  it('frees the block of a runner that was killed outright (SIGKILL): the kernel drops its claim', async () => {
    const holder = spawn(
      process.execPath,
      ['-e', `require('net').createServer().listen('\\0${prefix}-70000-70099', () => console.log('held')); setInterval(() => {}, 1000);`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    const other = await claimUidBlock(range, 100, prefix);
    expect(other.range.first).toBe(70100);
    other.release();
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
    const after = await claimUidBlock(range, 100, prefix);
    expect(after.range.first).toBe(70000);
    after.release();
  });
});
