import type { MysqlDataSourceOptions } from 'typeorm/driver/mysql/MysqlDataSourceOptions';
import { Replica, replicaPoolOptions, ReplicaSet } from './replicas';

const PRIMARY: MysqlDataSourceOptions = {
  type: 'mysql',
  host: 'primary',
  port: 3306,
  socketPath: '/run/mysqld/mysqld.sock',
  username: 'app',
  password: 'secret',
  database: 'concert',
  timezone: 'Z',
  charset: 'utf8mb4_unicode_ci',
  supportBigNumbers: true,
  bigNumberStrings: false,
  connectTimeout: 2000,
  poolSize: 7,
  extra: { queueLimit: 200, enableKeepAlive: true },
};

describe('replicas', () => {
  const made: Replica[] = [];
  function replica(name = 'r1'): Replica {
    const one = new Replica(name, 3306, PRIMARY);
    made.push(one);
    return one;
  }

  afterAll(async () => {
    await new ReplicaSet(made, 1000).end();
  });

  it('should connect to the replica with the primary credentials, database and row handling but not its socket', () => {
    expect(replicaPoolOptions(PRIMARY, 'r1', 3307)).toEqual({
      charset: 'utf8mb4_unicode_ci',
      timezone: 'Z',
      connectTimeout: 2000,
      supportBigNumbers: true,
      bigNumberStrings: false,
      stringifyObjects: true,
      host: 'r1',
      port: 3307,
      user: 'app',
      password: 'secret',
      database: 'concert',
      connectionLimit: 7,
      queueLimit: 200,
      enableKeepAlive: true,
    });
    expect(replica().killOptions).toMatchObject({ host: 'r1', port: 3306, socketPath: undefined });
  });

  it('should count lag from the oldest primary position not applied, and none once it is', () => {
    const one = replica();
    one.reachable = true;
    one.observe(1000, '0-1-5');
    one.observe(1500, '0-1-5');
    one.observe(2000, '0-1-9');

    expect(one.pendingPositions()).toEqual(['0-1-5', '0-1-9']);
    expect(one.lagMs(3000)).toBe(2000);
    expect(one.usable(2000, 3000)).toBe(true);
    expect(one.usable(2000, 3001)).toBe(false);

    one.settle(0);
    expect(one.lagMs(3000)).toBe(1000);
    one.settle(0);
    expect(one.lagMs(3000)).toBe(0);
    expect(one.appliedPosition).toBe('0-1-9');
    // The primary has not moved since: nothing new to apply.
    one.observe(4000, '0-1-9');
    expect(one.lagMs(9000)).toBe(0);
  });

  it('should treat an idle replica as current and an unreachable one as out', () => {
    const one = replica();
    expect(one.usable(1000, 0)).toBe(false);
    one.reachable = true;
    expect(one.usable(1000, 1_000_000)).toBe(true);
    one.markUnreachable();
    expect(one.usable(1000, 0)).toBe(false);
  });

  it('should pick the least loaded usable replica, in turn among equals', () => {
    const [a, b, c] = [replica('a'), replica('b'), replica('c')];
    for (const one of [a, b, c]) one.reachable = true;
    const set = new ReplicaSet([a, b, c], 1000);

    expect([set.pick(), set.pick(), set.pick(), set.pick()].map((one) => one?.host)).toEqual([
      'a',
      'b',
      'c',
      'a',
    ]);
    a.inFlight = 2;
    c.inFlight = 1;
    expect(set.pick()?.host).toBe('b');
    b.markUnreachable();
    expect(set.pick()?.host).toBe('c');
    c.markUnreachable();
    a.markUnreachable();
    expect(set.pick()).toBeUndefined();
  });
});
