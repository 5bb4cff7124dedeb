import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { LockBusyError } from './distributed-lock';
import { RedlockDistributedLock } from './redlock-distributed-lock';

/**
 * An in-memory stand-in for one Redis master, just the commands RedlockMutex sends: SET NX and
 * the compare-and-delete script. `down` makes every command fail as ioredis does without a node.
 */
class FakeNode {
  readonly keys = new Map<string, string>();
  down = false;
  failScripts = false;

  set(key: string, value: string): Promise<'OK' | null> {
    if (this.down) return Promise.reject(new Error('Connection is closed.'));
    if (this.keys.has(key)) return Promise.resolve(null);
    this.keys.set(key, value);
    return Promise.resolve('OK');
  }

  evalsha(_sha: string, _keyCount: number, key: string, identifier: string): Promise<number> {
    if (this.down || this.failScripts) return Promise.reject(new Error('Command timed out'));
    if (this.keys.get(key) !== identifier) return Promise.resolve(0);
    this.keys.delete(key);
    return Promise.resolve(1);
  }

  eval(_script: string, keyCount: number, key: string, identifier: string): Promise<number> {
    return this.evalsha('', keyCount, key, identifier);
  }

  get(key: string): Promise<string | null> {
    return Promise.resolve(this.keys.get(key) ?? null);
  }

  zrem(): Promise<number> {
    return Promise.resolve(0);
  }

  asRedis(): Redis {
    return this as unknown as Redis;
  }
}

const KEY = 'lock:seat:1';
const STORED = `mutex:${KEY}`;

describe('RedlockDistributedLock', () => {
  let nodes: FakeNode[];
  let lock: RedlockDistributedLock;
  let warn: jest.SpyInstance;

  beforeEach(() => {
    nodes = [new FakeNode(), new FakeNode(), new FakeNode()];
    lock = new RedlockDistributedLock(nodes.map((node) => node.asRedis()));
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterEach(() => warn.mockRestore());

  it('should run the work holding the key on every node, then give every node back', async () => {
    const seen: number[] = [];
    await expect(
      lock.withLock(KEY, 5_000, () => {
        seen.push(nodes.filter((node) => node.keys.has(STORED)).length);
        return Promise.resolve('done');
      }),
    ).resolves.toBe('done');
    expect(seen).toEqual([3]);
    expect(nodes.map((node) => node.keys.size)).toEqual([0, 0, 0]);
  });

  it('should refuse a second holder at once without running its work, and undo its lone vote', async () => {
    nodes[0].keys.set(STORED, 'another-holder');
    nodes[1].keys.set(STORED, 'another-holder');
    const work = jest.fn(() => Promise.resolve());
    await expect(lock.withLock(KEY, 5_000, work)).rejects.toBeInstanceOf(LockBusyError);
    expect(work).not.toHaveBeenCalled();
    // The vote it won on the third node is deleted, so it does not block the next taker.
    expect(nodes[2].keys.has(STORED)).toBe(false);
    expect(nodes[0].keys.get(STORED)).toBe('another-holder');
  });

  it('should lock normally with one node of three down: a majority still decides', async () => {
    nodes[2].down = true;
    let release!: () => void;
    let holding!: () => void;
    const held = new Promise<void>((r) => (holding = r));
    const first = lock.withLock(KEY, 5_000, () => {
      holding();
      return new Promise<void>((r) => (release = r));
    });
    await held;
    const second = jest.fn(() => Promise.resolve());
    await expect(lock.withLock(KEY, 5_000, second)).rejects.toBeInstanceOf(LockBusyError);
    expect(second).not.toHaveBeenCalled();
    release();
    await first;
    await expect(lock.withLock(KEY, 5_000, () => Promise.resolve('next'))).resolves.toBe('next');
    expect(warn).not.toHaveBeenCalled();
  });

  it('should call the seat busy when the answering majority is split, never fail open', async () => {
    nodes[2].down = true;
    nodes[0].keys.set(STORED, 'another-holder');
    const work = jest.fn(() => Promise.resolve());
    await expect(lock.withLock(KEY, 5_000, work)).rejects.toBeInstanceOf(LockBusyError);
    expect(work).not.toHaveBeenCalled();
  });

  it('should fail open onto the database fence when a majority is down, warning once per interval', async () => {
    nodes[0].down = true;
    nodes[1].down = true;
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) => lock.withLock(KEY, 5_000, () => Promise.resolve(i))),
    );
    // Every caller runs: the conditional UPDATE in its transaction decides, not the lock.
    expect(results).toEqual([0, 1, 2, 3, 4]);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatch(/1 of 3 lock nodes answered, 2 needed/);
    // The one node it reached keeps no stale key behind.
    expect(nodes[2].keys.size).toBe(0);
  });

  it('should fail open when a majority is down even while the remaining node holds the key', async () => {
    nodes[0].down = true;
    nodes[1].down = true;
    nodes[2].keys.set(STORED, 'another-holder');
    await expect(lock.withLock(KEY, 5_000, () => Promise.resolve('fenced'))).resolves.toBe(
      'fenced',
    );
  });

  it('should not fail the request when the release cannot reach the nodes', async () => {
    nodes.forEach((node) => (node.failScripts = true));
    await expect(lock.withLock(KEY, 5_000, () => Promise.resolve('kept'))).resolves.toBe('kept');
  });

  it('should release every node when the work throws, and rethrow', async () => {
    await expect(
      lock.withLock(KEY, 5_000, () => Promise.reject(new Error('boom'))),
    ).rejects.toThrow('boom');
    expect(nodes.map((node) => node.keys.size)).toEqual([0, 0, 0]);
  });

  it('should need a majority: two of two, three of five', async () => {
    const outcome = async (count: number, down: number) => {
      const fakes = Array.from({ length: count }, () => new FakeNode());
      fakes.slice(0, down).forEach((node) => (node.down = true));
      fakes.at(-1)!.keys.set(STORED, 'another-holder');
      const redlock = new RedlockDistributedLock(fakes.map((node) => node.asRedis()));
      // The last node is taken: "busy" if the answering nodes still make a majority, else open.
      return redlock.withLock(KEY, 5_000, () => Promise.resolve('open')).catch(String);
    };
    expect(await outcome(2, 1)).toBe('open');
    expect(await outcome(5, 2)).toMatch(/LockBusyError/);
    expect(await outcome(5, 3)).toBe('open');
  });
});
