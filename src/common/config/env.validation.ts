import { plainToInstance, Transform } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
  validateSync,
} from 'class-validator';

const MIN_SECRET_LENGTH = 32;

/** Their values never appear in an error message or a log line, valid or not. */
const SECRET_KEYS = new Set([
  'ADMIN_API_KEY',
  'AUTH_JWT_SECRET',
  'DB_PASSWORD',
  'EVENTS_AMQP_URL',
  'REDIS_URL',
  'REDIS_LOCK_NODES',
]);

const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;

/**
 * Every environment variable the service reads, with the defaults from the API contract.
 * Validation runs once at boot so a typo fails fast with the offending key named.
 */
export class EnvironmentVariables {
  @IsOptional()
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @IsString()
  @MaxLength(255)
  DB_HOST = '127.0.0.1';

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(65535)
  DB_PORT = 3306;

  @IsString()
  @MaxLength(64)
  DB_USER = 'root';

  @IsString()
  @MaxLength(256)
  DB_PASSWORD = '';

  @IsString()
  @Matches(/^[A-Za-z0-9_]{1,64}$/, { message: 'DB_NAME must match [A-Za-z0-9_]{1,64}' })
  DB_NAME = 'concert';

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(500)
  DB_POOL_SIZE = 20;

  /**
   * Longest wait for a pooled MySQL connection (and, for transactions, for their share of the
   * pool); within a request never longer than what is left of REQUEST_DEADLINE_MS. Past it: 503.
   * As long as the deadline by default: a burst the overload guard admitted is not turned away
   * by the pool while it could still be answered in time; jobs, which have no request's
   * deadline, are bounded by it.
   */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(120_000)
  DB_POOL_ACQUIRE_TIMEOUT_MS = 10_000;

  // Set (e.g. /run/mysqld/mysqld.sock) when MySQL runs on the same host: a Unix socket costs both
  // sides less CPU per statement than loopback TCP. DB_HOST/DB_PORT are then ignored.
  @IsOptional()
  @IsString()
  @MaxLength(255)
  DB_SOCKET_PATH?: string;

  /**
   * `true` (the default): on start, create the database if missing and apply pending migrations
   * under a MySQL named lock. `false`: apply nothing and refuse to start while a migration is
   * pending; something else migrates first (Kubernetes: the migration Job, docs/kubernetes.md).
   */
  @IsOptional()
  @IsIn(['true', 'false'])
  DB_MIGRATIONS_ON_START: 'true' | 'false' = 'true';

  /**
   * Read replicas (comma-separated `host:port`, same user, password and database as the primary)
   * for the catalogue and history reads (docs/adr/0014-read-replicas.md). Empty: every read on
   * the primary.
   */
  @IsString()
  @MaxLength(2048)
  @Matches(/^\s*(?:[A-Za-z0-9.-]+:\d{1,5}\s*(?:,\s*[A-Za-z0-9.-]+:\d{1,5}\s*)*)?$/, {
    message: 'DB_REPLICA_HOSTS must be a comma-separated list of host:port',
  })
  DB_REPLICA_HOSTS = '';

  /**
   * A replica further behind the primary than this is skipped (reads go to the primary) until it
   * catches up; it is also the longest a history read waits for a replica to reach the primary.
   */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(600_000)
  DB_REPLICA_MAX_LAG_MS = 2000;

  @IsString()
  @Matches(/^rediss?:\/\//, { message: 'REDIS_URL must start with redis:// or rediss://' })
  REDIS_URL = 'redis://127.0.0.1:6379/0';

  /**
   * Redis Cluster seed nodes (comma-separated `host:port`): set, the Cluster client is used and
   * REDIS_URL only lends its credentials and TLS (docs/operations.md "Redis Cluster").
   */
  @IsString()
  @MaxLength(2048)
  @Matches(/^\s*(?:[A-Za-z0-9.-]+:\d{1,5}\s*(?:,\s*[A-Za-z0-9.-]+:\d{1,5}\s*)*)?$/, {
    message: 'REDIS_CLUSTER_NODES must be a comma-separated list of host:port',
  })
  REDIS_CLUSTER_NODES = '';

  /**
   * Prefix for every Redis key; lets test workers (or tenants) share one Redis. No braces: the
   * prefix is part of every key, so a `{` in it would become the hash tag of every key.
   */
  @IsString()
  @MaxLength(64)
  @Matches(/^[A-Za-z0-9:_-]*$/, {
    message: 'REDIS_KEY_PREFIX may hold only letters, digits, ":", "_" and "-" (no "{" or "}")',
  })
  REDIS_KEY_PREFIX = '';

  /**
   * Independent Redis masters for the seat lock (Redlock: a majority must agree), e.g. three
   * `redis://` URLs. Unset: the lock uses the main Redis. An odd count (3, 5) tolerates the most
   * nodes down for its size.
   */
  @IsOptional()
  @IsString()
  @Matches(/^\s*rediss?:\/\/[^\s,]+\s*(?:,\s*rediss?:\/\/[^\s,]+\s*)*$/, {
    message: 'REDIS_LOCK_NODES must be a comma-separated list of redis:// or rediss:// URLs',
  })
  REDIS_LOCK_NODES?: string;

  /** Unset closes the admin API (every call 401); a set key must be long enough to resist guessing. */
  @IsOptional()
  @IsString()
  @MinLength(MIN_SECRET_LENGTH, {
    message: `ADMIN_API_KEY must be at least ${MIN_SECRET_LENGTH} characters`,
  })
  @MaxLength(256)
  ADMIN_API_KEY?: string;

  /** HS256 key of the access tokens: required, and long enough that it cannot be brute-forced. */
  @IsString({ message: 'AUTH_JWT_SECRET is required' })
  @MinLength(MIN_SECRET_LENGTH, {
    message: `AUTH_JWT_SECRET must be at least ${MIN_SECRET_LENGTH} characters`,
  })
  @MaxLength(512)
  AUTH_JWT_SECRET!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(255)
  AUTH_JWT_ISSUER = 'concert-booking';

  @IsString()
  @MinLength(1)
  @MaxLength(255)
  AUTH_JWT_AUDIENCE = 'concert-booking-api';

  @Transform(toInt)
  @IsInt()
  @Min(60)
  @Max(86_400)
  AUTH_TOKEN_TTL_SECONDS = 3600;

  /** An external identity provider's JWKS; its RS256/ES256/EdDSA tokens are accepted as well. */
  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_tld: false, require_protocol: true })
  @MaxLength(2048)
  AUTH_JWKS_URL?: string;

  /** The `iss` of the external provider's tokens; required with AUTH_JWKS_URL. */
  @ValidateIf((env: EnvironmentVariables) => env.AUTH_JWKS_URL !== undefined)
  @IsString({ message: 'AUTH_JWKS_ISSUER is required when AUTH_JWKS_URL is set' })
  @MinLength(1)
  @MaxLength(255)
  AUTH_JWKS_ISSUER?: string;

  /** Longest wait for the JWKS; only requests with a key id not seen yet ever wait on it. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(30_000)
  AUTH_JWKS_TIMEOUT_MS = 3000;

  /** Shortest gap between two JWKS fetches caused by unknown key ids (a flood of forged kids). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  AUTH_JWKS_COOLDOWN_MS = 30_000;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000)
  AUTH_LOGIN_MAX_FAILURES = 5;

  /** How long failed logins of one email are counted, and the lockout once they reach the max. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(86_400)
  AUTH_LOGIN_WINDOW_SECONDS = 900;

  /** Sign-ups per client address per hour (0 = off). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  AUTH_SIGNUPS_PER_HOUR = 100;

  /**
   * argon2id cost. The floors are OWASP's minimum (19 MiB, 2 passes, 1 lane), so no setting can
   * weaken the hash below it; raise them where logins are rarer than this box's capacity.
   */
  @Transform(toInt)
  @IsInt()
  @Min(19_456)
  @Max(4_194_304)
  AUTH_ARGON2_MEMORY_KIB = 19_456;

  @Transform(toInt)
  @IsInt()
  @Min(2)
  @Max(20)
  AUTH_ARGON2_TIME_COST = 2;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(16)
  AUTH_ARGON2_PARALLELISM = 1;

  /**
   * argon2 hashes one instance runs at once (unset: one fewer than the cores and than libuv's
   * thread pool, at least 1). The rest wait their turn, so logins queue instead of starving the
   * event loop and the thread pool the bearer check and DNS use.
   */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(64)
  AUTH_ARGON2_CONCURRENCY?: number;

  /** libuv's thread pool size (Node reads it at start); only used to size the default above. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1024)
  UV_THREADPOOL_SIZE = 4;

  /** Writes (charges, token issue, holds, cancels, payments, refunds) per user per minute (0 = off). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  RATE_LIMIT_USER_WRITES_PER_MINUTE = 120;

  /**
   * Proxies (comma-separated IPs or CIDRs) whose X-Forwarded-For is believed. The client address is
   * the socket peer, or behind these the right-most forwarded hop that is not one of them.
   */
  @IsString()
  @MaxLength(2048)
  @Matches(/^[0-9A-Fa-f.:/,\s]*$/, {
    message: 'TRUSTED_PROXIES must be a comma-separated list of IPs or CIDRs',
  })
  TRUSTED_PROXIES = '';

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  QUEUE_MAX_ACTIVE_USERS = 1000;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100_000)
  QUEUE_ADMIT_PER_SECOND = 100;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(86_400)
  QUEUE_ACTIVE_TTL_SECONDS = 600;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(86_400)
  QUEUE_WAITING_IDLE_SECONDS = 120;

  /**
   * Open GET /queue/events streams one instance holds; past it a new stream gets 503 and the
   * client polls. A stream costs a socket and a few KB, no work of its own (see docs/queue.md).
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  QUEUE_SSE_MAX_STREAMS = 10_000;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3_600)
  RESERVATION_HOLD_SECONDS = 300;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(50)
  RESERVATION_MAX_HOLDS_PER_USER = 4;

  /** Most seats (HELD + CONFIRMED) one user may have in one schedule: the purchase limit. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(500)
  RESERVATION_MAX_SEATS_PER_SCHEDULE = 4;

  /**
   * The Redis lock that shields MySQL from a stampede on one seat. `off` leaves the database fence
   * alone (the concurrency tests prove it suffices); production keeps `redis`.
   */
  @IsOptional()
  @IsIn(['redis', 'off'])
  RESERVATION_SEAT_LOCK: 'redis' | 'off' = 'redis';

  /**
   * A payment is refundable until this many hours before the earliest start among its schedules
   * (0 = until the show starts). Bounded to a year so a typo cannot silently close every refund.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(8_760)
  PAYMENT_REFUND_CUTOFF_HOURS = 24;

  /**
   * Seconds between runs of the invariant audit job (0 = off). Every instance ticks, one of them
   * runs the audit per period (a Redis claim), and all export its result.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(86_400)
  AUDIT_INTERVAL_SECONDS = 60;

  /**
   * Longest one audit may read (all its statements together, each given what is left). Past it
   * the rules not finished are reported unchecked: GET /admin/audit answers 503.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(600_000)
  AUDIT_TIME_LIMIT_MS = 30_000;

  /**
   * RabbitMQ for the booking events (`amqp://user:password@host:5672/vhost`). Unset: no relay, the
   * events stay in the outbox. It carries a password, so it is never printed, valid or not.
   */
  @IsOptional()
  @IsString()
  @Matches(/^amqps?:\/\/\S+$/, { message: 'EVENTS_AMQP_URL must be an amqp:// or amqps:// URL' })
  @MaxLength(2048)
  EVENTS_AMQP_URL?: string;

  /** The durable topic exchange the relay publishes to (routing key = event type). */
  @IsString()
  @Matches(/^[A-Za-z0-9._:-]{1,255}$/, {
    message: 'EVENTS_EXCHANGE must be 1..255 characters of [A-Za-z0-9._:-]',
  })
  EVENTS_EXCHANGE = 'concert-booking.events';

  /** Sent events (and, with no broker configured, unsent ones) are purged after this many hours. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(87_600)
  EVENTS_RETENTION_HOURS = 168;

  /**
   * `off` writes no events at all, breaking the contract: it exists only so the benchmark can
   * measure what the outbox costs a payment in the same run. Production keeps `on`.
   */
  @IsOptional()
  @IsIn(['on', 'off'])
  EVENTS_OUTBOX: 'on' | 'off' = 'on';

  /** Background jobs (admission, hold release) can be switched off, e.g. on API-only replicas. */
  @IsOptional()
  @IsIn(['true', 'false'])
  JOBS_ENABLED: 'true' | 'false' = 'true';

  @IsOptional()
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  /**
   * Load shedding: requests in progress on this instance above which new ones get an immediate 503
   * with Retry-After instead of queueing (0 = off). Little's law: capacity × target latency
   * (8,000 req/s × 30 ms ≈ 240); it also keeps DB-bound bursts off the connection pool's queue.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(100_000)
  OVERLOAD_MAX_IN_FLIGHT = 256;

  /**
   * Smoothed event-loop lag (ms) above which new requests get 503 (0 = off). A last resort, set
   * high on purpose: answering a 503 costs about as much CPU as a status poll, so shedding on a
   * low lag only trades answers for refusals (docs/adr/0007-observability.md).
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(60_000)
  OVERLOAD_MAX_EVENT_LOOP_DELAY_MS = 1000;

  /**
   * Longest a client may take to send a whole request (headers and body). A slow-body client
   * (1 byte every 25 s) otherwise holds a socket and an in-flight slot for as long as it likes;
   * past this it gets 408 and the connection closes.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  @Max(300_000)
  HTTP_REQUEST_TIMEOUT_MS = 10_000;

  /**
   * Longest a request may take from its arrival to its answer. Every MySQL and Redis call on its
   * path gets what is left; past it the statement is stopped (never to commit later) and the
   * client gets 503 with Retry-After (docs/adr/0013-request-deadline.md). At least 1.5 s: the
   * holds' 1 s lock wait must fit inside it.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1_500)
  @Max(120_000)
  REQUEST_DEADLINE_MS = 10_000;

  /** Retry-After (s) sent with the overload 503. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3_600)
  OVERLOAD_RETRY_AFTER_SECONDS = 1;
}

export function validateEnvironment(raw: Record<string, unknown>): EnvironmentVariables {
  // Empty strings from compose files mean "not set": fall back to the defaults.
  const present = Object.fromEntries(
    Object.entries(raw).filter(([key, value]) => !(value === '' && key !== 'DB_PASSWORD')),
  );
  const env = plainToInstance(EnvironmentVariables, present, { exposeDefaultValues: true });
  const errors = validateSync(env, { skipMissingProperties: false, whitelist: false });
  if (errors.length > 0) {
    const lines = errors.map((error) => {
      const shown = SECRET_KEYS.has(error.property) ? '' : `=${JSON.stringify(error.value)}`;
      return `  ${error.property}${shown}: ${Object.values(error.constraints ?? {}).join('; ')}`;
    });
    throw new Error(`Invalid environment configuration:\n${lines.join('\n')}`);
  }
  return env;
}
