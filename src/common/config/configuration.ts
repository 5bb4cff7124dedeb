import { ConfigType, registerAs } from '@nestjs/config';
import { availableParallelism } from 'node:os';
import { validateEnvironment } from './env.validation';

// Each concern reads the already-validated environment; process.env is touched only here.
const env = () => validateEnvironment(process.env);

export const appConfig = registerAs('app', () => {
  const e = env();
  return {
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    adminApiKey: e.ADMIN_API_KEY && e.ADMIN_API_KEY.length > 0 ? e.ADMIN_API_KEY : undefined,
    jobsEnabled: e.JOBS_ENABLED === 'true',
    logLevel: e.LOG_LEVEL,
    requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
    requestDeadlineMs: e.REQUEST_DEADLINE_MS,
    trustedProxies: e.TRUSTED_PROXIES.split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry.length > 0),
  };
});

export const authConfig = registerAs('auth', () => {
  const e = env();
  return {
    jwtSecret: e.AUTH_JWT_SECRET,
    issuer: e.AUTH_JWT_ISSUER,
    audience: e.AUTH_JWT_AUDIENCE,
    tokenTtlSeconds: e.AUTH_TOKEN_TTL_SECONDS,
    jwks: e.AUTH_JWKS_URL
      ? {
          url: e.AUTH_JWKS_URL,
          issuer: e.AUTH_JWKS_ISSUER ?? '',
          timeoutMs: e.AUTH_JWKS_TIMEOUT_MS,
          cooldownMs: e.AUTH_JWKS_COOLDOWN_MS,
        }
      : undefined,
    loginMaxFailures: e.AUTH_LOGIN_MAX_FAILURES,
    loginWindowSeconds: e.AUTH_LOGIN_WINDOW_SECONDS,
    signupsPerHour: e.AUTH_SIGNUPS_PER_HOUR,
    argon2: {
      memoryKib: e.AUTH_ARGON2_MEMORY_KIB,
      timeCost: e.AUTH_ARGON2_TIME_COST,
      parallelism: e.AUTH_ARGON2_PARALLELISM,
      concurrency:
        e.AUTH_ARGON2_CONCURRENCY ??
        Math.max(1, Math.min(availableParallelism() - 1, e.UV_THREADPOOL_SIZE - 1)),
    },
  };
});

export const rateLimitConfig = registerAs('rateLimit', () => {
  const e = env();
  return { userWritesPerMinute: e.RATE_LIMIT_USER_WRITES_PER_MINUTE };
});

export const databaseConfig = registerAs('database', () => {
  const e = env();
  return {
    host: e.DB_HOST,
    port: e.DB_PORT,
    user: e.DB_USER,
    password: e.DB_PASSWORD,
    name: e.DB_NAME,
    poolSize: e.DB_POOL_SIZE,
    poolQueueLimit: poolQueueLimit(e.OVERLOAD_MAX_IN_FLIGHT),
    socketPath: e.DB_SOCKET_PATH,
    acquireTimeoutMs: e.DB_POOL_ACQUIRE_TIMEOUT_MS,
    // Server-side bounds on every statement of the app's sessions, inside the request deadline
    // so the server stops on its own even when the client cannot reach it (ADR 0013).
    statementTimeLimitMs: Math.floor(e.REQUEST_DEADLINE_MS / 2),
    lockWaitSeconds: lockWaitSecondsFor(e.REQUEST_DEADLINE_MS),
    migrateOnStart: e.DB_MIGRATIONS_ON_START === 'true',
    replicas: replicaHosts(e.DB_REPLICA_HOSTS),
    replicaMaxLagMs: e.DB_REPLICA_MAX_LAG_MS,
  };
});

function replicaHosts(list: string): { host: string; port: number }[] {
  return list
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0)
    .map((entry) => {
      const colon = entry.lastIndexOf(':');
      return { host: entry.slice(0, colon), port: Number(entry.slice(colon + 1)) };
    });
}

/**
 * Requests the pool lets wait for a connection before it fails the next one (503). The overload
 * guard is the admission control: a request it let in must not be turned away again merely for
 * arriving in a burst (1,000 fans on one seat land within milliseconds on a fast accept loop), so
 * the queue has room for every request in flight. 200 is the floor, and the bound when the guard
 * is off: past it MySQL is not keeping up, and failing fast beats queueing behind a dead pool.
 */
const MIN_POOL_QUEUE = 200;
function poolQueueLimit(maxInFlight: number): number {
  return Math.max(MIN_POOL_QUEUE, maxInFlight);
}

/**
 * The app's sessions' innodb_lock_wait_timeout. A transaction that waits for a row lock longer is
 * answered (503, or 409 where the row is a seat being taken) instead of queued: every transaction
 * here holds its locks for milliseconds (lock, write, commit; never across a network call), so a
 * long wait means a stalled holder or a queue too long to serve in time. A third of the deadline
 * (3 s of 10 s) leaves room for a queue of writers on one hot row (a wallet) and for the rest of
 * the request; the server's default, 50 s, outlasts every client and proxy. Holds ask for 1 s.
 */
export function lockWaitSecondsFor(requestDeadlineMs: number): number {
  return Math.min(5, Math.max(1, Math.floor(requestDeadlineMs / 3000)));
}

export const redisConfig = registerAs('redis', () => {
  const e = env();
  return {
    url: e.REDIS_URL,
    keyPrefix: e.REDIS_KEY_PREFIX,
    /** Empty: one Redis at `url`; else the Redis Cluster's seed nodes. */
    clusterNodes: e.REDIS_CLUSTER_NODES.split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry.length > 0)
      .map((entry) => {
        const colon = entry.lastIndexOf(':');
        return { host: entry.slice(0, colon), port: Number(entry.slice(colon + 1)) };
      }),
  };
});

export const queueConfig = registerAs('queue', () => {
  const e = env();
  return {
    maxActiveUsers: e.QUEUE_MAX_ACTIVE_USERS,
    admitPerSecond: e.QUEUE_ADMIT_PER_SECOND,
    activeTtlSeconds: e.QUEUE_ACTIVE_TTL_SECONDS,
    waitingIdleSeconds: e.QUEUE_WAITING_IDLE_SECONDS,
    sseMaxStreams: e.QUEUE_SSE_MAX_STREAMS,
  };
});

export const reservationConfig = registerAs('reservation', () => {
  const e = env();
  return {
    holdSeconds: e.RESERVATION_HOLD_SECONDS,
    maxHoldsPerUser: e.RESERVATION_MAX_HOLDS_PER_USER,
    maxSeatsPerSchedule: e.RESERVATION_MAX_SEATS_PER_SCHEDULE,
    seatLock: e.RESERVATION_SEAT_LOCK,
    /** Empty: the seat lock lives on the main Redis; else Redlock over these independent masters. */
    seatLockNodes: (e.REDIS_LOCK_NODES ?? '')
      .split(',')
      .map((url) => url.trim())
      .filter((url) => url.length > 0),
  };
});

export const paymentConfig = registerAs('payment', () => {
  const e = env();
  return { refundCutoffHours: e.PAYMENT_REFUND_CUTOFF_HOURS };
});

export const eventsConfig = registerAs('events', () => {
  const e = env();
  return {
    /** Unset: no relay; events stay in the outbox until the retention purge. Holds a password. */
    amqpUrl: e.EVENTS_AMQP_URL,
    exchange: e.EVENTS_EXCHANGE,
    retentionHours: e.EVENTS_RETENTION_HOURS,
    outbox: e.EVENTS_OUTBOX,
  };
});

export const auditConfig = registerAs('audit', () => {
  const e = env();
  return { intervalSeconds: e.AUDIT_INTERVAL_SECONDS, timeLimitMs: e.AUDIT_TIME_LIMIT_MS };
});

export const overloadConfig = registerAs('overload', () => {
  const e = env();
  return {
    maxInFlight: e.OVERLOAD_MAX_IN_FLIGHT,
    maxEventLoopDelayMs: e.OVERLOAD_MAX_EVENT_LOOP_DELAY_MS,
    retryAfterSeconds: e.OVERLOAD_RETRY_AFTER_SECONDS,
  };
});

export type AppConfig = ConfigType<typeof appConfig>;
export type AuthConfig = ConfigType<typeof authConfig>;
export type RateLimitConfig = ConfigType<typeof rateLimitConfig>;
export type DatabaseConfig = ConfigType<typeof databaseConfig>;
export type RedisConfig = ConfigType<typeof redisConfig>;
export type QueueConfig = ConfigType<typeof queueConfig>;
export type ReservationConfig = ConfigType<typeof reservationConfig>;
export type PaymentConfig = ConfigType<typeof paymentConfig>;
export type EventsConfig = ConfigType<typeof eventsConfig>;
export type AuditConfig = ConfigType<typeof auditConfig>;
export type OverloadConfig = ConfigType<typeof overloadConfig>;

export const allConfigs = [
  appConfig,
  authConfig,
  rateLimitConfig,
  databaseConfig,
  redisConfig,
  queueConfig,
  reservationConfig,
  paymentConfig,
  eventsConfig,
  auditConfig,
  overloadConfig,
];
