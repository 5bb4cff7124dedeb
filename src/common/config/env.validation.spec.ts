import { databaseConfig, redisConfig, reservationConfig } from './configuration';
import { validateEnvironment } from './env.validation';

const SECRET = 'a-test-secret-that-is-long-enough-1234';
const REQUIRED = { AUTH_JWT_SECRET: SECRET };

describe('validateEnvironment', () => {
  it('should apply the contract defaults when nothing is set', () => {
    const env = validateEnvironment({ ...REQUIRED });
    expect(env).toMatchObject({
      PORT: 3000,
      DB_HOST: '127.0.0.1',
      DB_PORT: 3306,
      DB_USER: 'root',
      DB_PASSWORD: '',
      DB_NAME: 'concert',
      REDIS_URL: 'redis://127.0.0.1:6379/0',
      QUEUE_MAX_ACTIVE_USERS: 1000,
      QUEUE_ADMIT_PER_SECOND: 100,
      QUEUE_ACTIVE_TTL_SECONDS: 600,
      QUEUE_WAITING_IDLE_SECONDS: 120,
      RESERVATION_HOLD_SECONDS: 300,
      RESERVATION_MAX_HOLDS_PER_USER: 4,
    });
    expect(env.ADMIN_API_KEY).toBeUndefined();
  });

  it('should run the audit every 60 s within 30 s by default, and take 0 as off', () => {
    expect(validateEnvironment({ ...REQUIRED })).toMatchObject({
      AUDIT_INTERVAL_SECONDS: 60,
      AUDIT_TIME_LIMIT_MS: 30_000,
    });
    expect(validateEnvironment({ ...REQUIRED, AUDIT_INTERVAL_SECONDS: '0' })).toMatchObject({
      AUDIT_INTERVAL_SECONDS: 0,
    });
    expect(() => validateEnvironment({ ...REQUIRED, AUDIT_TIME_LIMIT_MS: '0' })).toThrow(
      /AUDIT_TIME_LIMIT_MS/,
    );
  });

  it('should give requests a 10 s deadline and the pool an acquire bound as long by default', () => {
    expect(validateEnvironment({ ...REQUIRED })).toMatchObject({
      REQUEST_DEADLINE_MS: 10_000,
      DB_POOL_ACQUIRE_TIMEOUT_MS: 10_000,
    });
    // The 1 s session lock wait must fit inside the deadline.
    expect(() => validateEnvironment({ ...REQUIRED, REQUEST_DEADLINE_MS: '1000' })).toThrow(
      /REQUEST_DEADLINE_MS/,
    );
  });

  it('should read no replicas and a 2 s lag bound by default, and refuse a malformed list', () => {
    expect(validateEnvironment({ ...REQUIRED })).toMatchObject({
      DB_REPLICA_HOSTS: '',
      DB_REPLICA_MAX_LAG_MS: 2000,
    });
    expect(
      validateEnvironment({ ...REQUIRED, DB_REPLICA_HOSTS: 'db-r1:3306, 10.0.0.7:3307' }),
    ).toMatchObject({ DB_REPLICA_HOSTS: 'db-r1:3306, 10.0.0.7:3307' });
    expect(() => validateEnvironment({ ...REQUIRED, DB_REPLICA_HOSTS: 'db-r1' })).toThrow(
      /DB_REPLICA_HOSTS/,
    );
    expect(() => validateEnvironment({ ...REQUIRED, DB_REPLICA_MAX_LAG_MS: '10' })).toThrow(
      /DB_REPLICA_MAX_LAG_MS/,
    );
  });

  it('should hand the database config the replicas as host and port', () => {
    const saved = { ...process.env };
    Object.assign(process.env, REQUIRED, { DB_REPLICA_HOSTS: 'db-r1:3306,10.0.0.7:3307' });
    try {
      expect(databaseConfig().replicas).toEqual([
        { host: 'db-r1', port: 3306 },
        { host: '10.0.0.7', port: 3307 },
      ]);
    } finally {
      process.env = saved;
    }
  });

  it('should keep the seat lock on the main Redis by default, and refuse a lock node list that is not URLs without printing it', () => {
    expect(validateEnvironment({ ...REQUIRED }).REDIS_LOCK_NODES).toBeUndefined();
    expect(() =>
      validateEnvironment({ ...REQUIRED, REDIS_LOCK_NODES: 'redis://:hunter2@a:6379,b:6379' }),
    ).toThrow(
      expect.objectContaining({
        message: expect.stringMatching(/REDIS_LOCK_NODES(?![\s\S]*hunter2)/),
      }),
    );
  });

  it('should hand the reservation config the lock nodes as a list of URLs', () => {
    const saved = { ...process.env };
    Object.assign(process.env, REQUIRED, {
      REDIS_LOCK_NODES: 'redis://lock-a:6379/0, redis://:pw@lock-b:6380/0 ,rediss://lock-c:6381',
    });
    try {
      expect(reservationConfig().seatLockNodes).toEqual([
        'redis://lock-a:6379/0',
        'redis://:pw@lock-b:6380/0',
        'rediss://lock-c:6381',
      ]);
      process.env.REDIS_LOCK_NODES = '';
      expect(reservationConfig().seatLockNodes).toEqual([]);
    } finally {
      process.env = saved;
    }
  });

  it('should use one Redis by default, and refuse a malformed cluster node list or a braced prefix', () => {
    expect(validateEnvironment({ ...REQUIRED })).toMatchObject({ REDIS_CLUSTER_NODES: '' });
    expect(
      validateEnvironment({ ...REQUIRED, REDIS_CLUSTER_NODES: 'redis-0:6379, 10.0.0.8:7000' }),
    ).toMatchObject({ REDIS_CLUSTER_NODES: 'redis-0:6379, 10.0.0.8:7000' });
    expect(() =>
      validateEnvironment({ ...REQUIRED, REDIS_CLUSTER_NODES: 'redis://redis-0:6379' }),
    ).toThrow(/REDIS_CLUSTER_NODES/);
    // A brace in the prefix would be every key's hash tag: one slot for everything.
    expect(() => validateEnvironment({ ...REQUIRED, REDIS_KEY_PREFIX: 'app{1}:' })).toThrow(
      /REDIS_KEY_PREFIX/,
    );
  });

  it('should hand the Redis config the cluster nodes as host and port', () => {
    const saved = { ...process.env };
    Object.assign(process.env, REQUIRED, { REDIS_CLUSTER_NODES: 'redis-0:6379, 10.0.0.8:7000' });
    try {
      expect(redisConfig().clusterNodes).toEqual([
        { host: 'redis-0', port: 6379 },
        { host: '10.0.0.8', port: 7000 },
      ]);
      process.env.REDIS_CLUSTER_NODES = '';
      expect(redisConfig().clusterNodes).toEqual([]);
    } finally {
      process.env = saved;
    }
  });

  it('should parse numbers given as strings', () => {
    expect(
      validateEnvironment({ ...REQUIRED, PORT: '8080', QUEUE_MAX_ACTIVE_USERS: '2' }),
    ).toMatchObject({
      PORT: 8080,
      QUEUE_MAX_ACTIVE_USERS: 2,
    });
  });

  it('should name every bad key in one error', () => {
    expect(() =>
      validateEnvironment({
        ...REQUIRED,
        PORT: 'eighty',
        REDIS_URL: 'localhost:6379',
        RESERVATION_HOLD_SECONDS: '0',
      }),
    ).toThrow(/PORT="eighty"[\s\S]*REDIS_URL: [\s\S]*RESERVATION_HOLD_SECONDS=0/);
  });

  it('should never print REDIS_URL, which may carry a password', () => {
    expect(() =>
      validateEnvironment({ ...REQUIRED, REDIS_URL: 'http://:hunter2-password@redis:6379' }),
    ).toThrow(expect.objectContaining({ message: expect.not.stringContaining('hunter2') }));
  });

  it('should treat an empty value as unset', () => {
    expect(validateEnvironment({ ...REQUIRED, PORT: '' }).PORT).toBe(3000);
  });

  it('should refuse to start without AUTH_JWT_SECRET, naming it', () => {
    expect(() => validateEnvironment({})).toThrow(/AUTH_JWT_SECRET/);
  });

  it('should refuse secrets shorter than 32 characters without printing them', () => {
    const short = 'short-secret-value';
    let message = '';
    try {
      validateEnvironment({ AUTH_JWT_SECRET: short, ADMIN_API_KEY: `${short}-admin` });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/AUTH_JWT_SECRET[\s\S]*at least 32/);
    expect(message).toMatch(/ADMIN_API_KEY[\s\S]*at least 32/);
    expect(message).not.toContain(short);
  });

  it('should refuse argon2 costs below the OWASP minimum', () => {
    expect(() =>
      validateEnvironment({
        ...REQUIRED,
        AUTH_ARGON2_MEMORY_KIB: '8192',
        AUTH_ARGON2_TIME_COST: '1',
      }),
    ).toThrow(/AUTH_ARGON2_MEMORY_KIB[\s\S]*AUTH_ARGON2_TIME_COST/);
  });

  it('should require AUTH_JWKS_ISSUER when AUTH_JWKS_URL is set', () => {
    expect(() =>
      validateEnvironment({ ...REQUIRED, AUTH_JWKS_URL: 'http://127.0.0.1:9/jwks.json' }),
    ).toThrow(/AUTH_JWKS_ISSUER/);
  });

  it('should leave the relay off and keep the events for 168 h by default', () => {
    const env = validateEnvironment({ ...REQUIRED });
    expect(env.EVENTS_AMQP_URL).toBeUndefined();
    expect(env).toMatchObject({
      EVENTS_EXCHANGE: 'concert-booking.events',
      EVENTS_RETENTION_HOURS: 168,
      EVENTS_OUTBOX: 'on',
    });
  });

  it('should refuse an EVENTS_AMQP_URL that is not amqp(s) without printing it', () => {
    let message = '';
    try {
      validateEnvironment({ ...REQUIRED, EVENTS_AMQP_URL: 'http://relay:hunter2@broker:5672' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/EVENTS_AMQP_URL[\s\S]*amqp:\/\//);
    expect(message).not.toContain('hunter2');
  });
});
