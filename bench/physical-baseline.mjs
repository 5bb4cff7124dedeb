// The physical baselines (issue 17): a bare Fastify server on ioredis and mysql2 doing only the
// minimal work the API contract demands on each hot path, against the service's own Redis keys
// and MySQL tables, so it serves the very tokens, users and seats the service issued. No Nest, no
// guards, no ALS, no deadlines, no metrics, no logging; one pool of DB_POOL_SIZE (20) over TCP.
//
//   GET  /queue/status   Queue-Token → one pipeline: owner, ACTIVE expiry, rank, last poll, touch
//   POST /queue/tokens   bearer (jose) + the user check (first sight, then cached, as the
//                        service does) + the concert check (cached) → one pipeline for the user's
//                        live token, then one small script creating the token
//   POST /reservations   bearer + queue-token lookup (one pipeline) → BEGIN, user row lock, the
//                        purchase-limit count, reservation INSERT … SELECT (booking window and
//                        concert of the token checked in it), conditional seat UPDATE, outbox
//                        row, COMMIT
//   POST /payments       bearer + queue-token lookup → BEGIN, reservation lock, debit, payment,
//                        ledger row, receipt line INSERT … SELECT, CONFIRMED, SOLD, outbox row,
//                        COMMIT → the token retired (one pipeline)
//
// Not a second implementation of the service: no problem+json catalogue, one seat per hold,
// one reservation per payment, no Idempotency-Key. It is the floor the service is measured
// against. bench/physical.mjs starts it next to the service and alternates loads.
//
//   PORT=3198 REDIS_KEY_PREFIX=… DB_NAME=concert_bench node bench/physical-baseline.mjs
import Fastify from 'fastify';
import Redis from 'ioredis';
import { jwtVerify } from 'jose';
import mysql from 'mysql2/promise';
import { randomUUID } from 'node:crypto';
import { crc32 } from 'node:zlib';

const env = process.env;
const int = (name, fallback) => (Number(env[name]) > 0 ? Number(env[name]) : fallback);
const IDLE_MS = int('QUEUE_WAITING_IDLE_SECONDS', 120) * 1000;
const HOLD_SECONDS = int('RESERVATION_HOLD_SECONDS', 300);
const MAX_HOLDS = int('RESERVATION_MAX_HOLDS_PER_USER', 4);
const MAX_PER_SCHEDULE = int('RESERVATION_MAX_SEATS_PER_SCHEDULE', 4);
const OUTBOX_PARTITIONS = 16;
const RETIRED_SECONDS = 25 * 3600;
const secret = new TextEncoder().encode(env.AUTH_JWT_SECRET ?? '');
const JWT_OPTIONS = {
  issuer: env.AUTH_JWT_ISSUER ?? 'concert-booking',
  audience: env.AUTH_JWT_AUDIENCE ?? 'concert-booking-api',
  algorithms: ['HS256'],
};

const redis = new Redis(env.REDIS_URL ?? 'redis://127.0.0.1:6379/0', {
  keyPrefix: env.REDIS_KEY_PREFIX || undefined,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  lazyConnect: true,
});
const db = mysql.createPool({
  host: env.DB_HOST ?? '127.0.0.1',
  port: Number(env.DB_PORT ?? 3306),
  user: env.DB_USER ?? 'root',
  password: env.DB_PASSWORD ?? '',
  database: env.DB_NAME ?? 'concert_bench',
  connectionLimit: int('DB_POOL_SIZE', 20),
  timezone: 'Z',
});

const keys = (concertId) => {
  const tag = `{room:${concertId}}`;
  return {
    seq: `${tag}:seq`,
    waiting: `${tag}:waiting`,
    seen: `${tag}:seen`,
    active: `${tag}:active`,
    owners: `${tag}:owners`,
    users: `${tag}:users`,
    retired: (token) => `${tag}:retired:${token}`,
  };
};

// Token creation, atomic (sequence number and line entry together). KEYS seq, waiting, seen,
// owners, users; ARGV token, userId, nowMs. Reply: the position.
redis.defineCommand('baselineJoin', {
  numberOfKeys: 5,
  lua: `
redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[1]), ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
redis.call('HSET', KEYS[4], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[5], ARGV[2], ARGV[1])
return redis.call('ZRANK', KEYS[2], ARGV[1]) + 1`,
});

const TOKEN = /^([1-9][0-9]{0,9})\.[0-9a-f-]{36}$/;
const knownUsers = new Set();
const knownConcerts = new Set();

class Refusal extends Error {
  constructor(status, code) {
    super(code);
    this.status = status;
    this.code = code;
  }
}

async function bearer(request) {
  const header = request.headers.authorization;
  if (typeof header !== 'string' || !header.startsWith('Bearer ')) {
    throw new Refusal(401, 'AUTH_TOKEN_INVALID');
  }
  let userId;
  try {
    userId = (await jwtVerify(header.slice(7), secret, JWT_OPTIONS)).payload.sub;
  } catch {
    throw new Refusal(401, 'AUTH_TOKEN_INVALID');
  }
  if (!knownUsers.has(userId)) {
    const [rows] = await db.execute('SELECT 1 FROM users WHERE id = ?', [userId]);
    if (rows.length === 0) throw new Refusal(401, 'AUTH_TOKEN_INVALID');
    knownUsers.add(userId);
  }
  return userId;
}

function parseToken(raw) {
  const match = typeof raw === 'string' ? TOKEN.exec(raw) : null;
  if (!match) throw new Refusal(401, 'QUEUE_TOKEN_INVALID');
  return { token: raw, concertId: Number(match[1]) };
}

/** The token of the caller, ACTIVE: owner and expiry in one pipeline. */
async function activeToken(request, userId) {
  const { token, concertId } = parseToken(request.headers['queue-token']);
  const k = keys(concertId);
  const [[, owner], [, expires]] = await redis
    .pipeline()
    .hget(k.owners, token)
    .zscore(k.active, token)
    .exec();
  if (owner !== userId) throw new Refusal(401, 'QUEUE_TOKEN_INVALID');
  if (!(Number(expires) > Date.now())) throw new Refusal(403, 'QUEUE_TOKEN_NOT_ACTIVE');
  return { token, concertId, k };
}

async function inTransaction(work) {
  const conn = await db.getConnection();
  try {
    await conn.query('BEGIN');
    const result = await work(conn);
    await conn.query('COMMIT');
    return result;
  } catch (error) {
    await conn.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    conn.release();
  }
}

const outboxRow = (type, subject, data) => [
  randomUUID(),
  type,
  subject,
  crc32(subject) % OUTBOX_PARTITIONS,
  JSON.stringify(data),
];
const OUTBOX_INSERT = `INSERT INTO outbox_events (event_id, type, subject, partition_no, data, created_at)
  VALUES (?, ?, ?, ?, ?, UTC_TIMESTAMP(3))`;

const app = Fastify({ logger: false });
app.setErrorHandler((error, _request, reply) => {
  const status = error instanceof Refusal ? error.status : (error.statusCode ?? 500);
  void reply
    .status(status)
    .type('application/problem+json')
    .send({ status, code: error.code ?? 'ERROR' });
});
app.get('/health', async () => ({ status: 'ok' }));

app.get('/queue/status', async (request) => {
  const { token, concertId } = parseToken(request.headers['queue-token']);
  const k = keys(concertId);
  const now = Date.now();
  // The touch rides in the same pipeline; a token found idle was touched for nothing, and the
  // admission job drops it all the same.
  const [[, owner], [, expires], [, rank], [, seen]] = await redis
    .pipeline()
    .hget(k.owners, token)
    .zscore(k.active, token)
    .zrank(k.waiting, token)
    .zscore(k.seen, token)
    .zadd(k.seen, 'XX', now, token)
    .exec();
  if (owner === null) throw new Refusal(401, 'QUEUE_TOKEN_INVALID');
  if (expires !== null && Number(expires) > now) {
    return { token, status: 'ACTIVE', activeUntil: new Date(Number(expires)).toISOString() };
  }
  if (seen === null || Number(seen) + IDLE_MS <= now) throw new Refusal(401, 'QUEUE_TOKEN_INVALID');
  return { token, status: 'WAITING', position: rank === null ? null : rank + 1 };
});

app.post('/queue/tokens', async (request, reply) => {
  const userId = await bearer(request);
  const concertId = Number(request.body?.concertId);
  if (!Number.isInteger(concertId) || concertId < 1) throw new Refusal(400, 'VALIDATION_FAILED');
  const k = keys(concertId);
  const [[, existing]] = await redis.pipeline().hget(k.users, userId).exec();
  if (existing) {
    void reply.status(200);
    return { token: existing, status: 'WAITING' };
  }
  if (!knownConcerts.has(concertId)) {
    const [rows] = await db.execute('SELECT 1 FROM concerts WHERE id = ?', [concertId]);
    if (rows.length === 0) throw new Refusal(404, 'CONCERT_NOT_FOUND');
    knownConcerts.add(concertId);
  }
  const token = `${concertId}.${randomUUID()}`;
  const position = await redis.baselineJoin(
    k.seq,
    k.waiting,
    k.seen,
    k.owners,
    k.users,
    token,
    userId,
    Date.now(),
  );
  void reply.status(201);
  return { token, status: 'WAITING', position };
});

app.post('/reservations', async (request, reply) => {
  const userId = await bearer(request);
  const { concertId } = await activeToken(request, userId);
  const scheduleId = Number(request.body?.scheduleId);
  const seatId = Number(request.body?.seatId);
  const reservation = await inTransaction(async (conn) => {
    await conn.execute('SELECT id FROM users WHERE id = ? FOR UPDATE', [userId]);
    const [[limits]] = await conn.execute(
      `SELECT COUNT(*) AS live, COALESCE(SUM(schedule_id = ?), 0) AS in_schedule
         FROM reservations
        WHERE user_id = ? AND (status = 'CONFIRMED' OR (status = 'HELD' AND expires_at > UTC_TIMESTAMP(3)))`,
      [scheduleId, userId],
    );
    if (Number(limits.live) >= MAX_HOLDS || Number(limits.in_schedule) >= MAX_PER_SCHEDULE) {
      throw new Refusal(409, 'RESERVATION_LIMIT_REACHED');
    }
    let inserted;
    try {
      [inserted] = await conn.execute(
        `INSERT INTO reservations
           (user_id, schedule_id, seat_id, seat_number, price, status, expires_at, created_at, updated_at)
         SELECT ?, s.schedule_id, s.id, s.number, s.price, 'HELD',
                UTC_TIMESTAMP(3) + INTERVAL ? SECOND, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3)
           FROM seats s JOIN concert_schedules cs ON cs.id = s.schedule_id
          WHERE s.id = ? AND s.schedule_id = ? AND cs.concert_id = ?
            AND cs.booking_opens_at <= UTC_TIMESTAMP(3) AND cs.booking_closes_at > UTC_TIMESTAMP(3)`,
        [userId, HOLD_SECONDS, seatId, scheduleId, concertId],
      );
    } catch (error) {
      if (error.code === 'ER_DUP_ENTRY') throw new Refusal(409, 'SEAT_UNAVAILABLE');
      throw error;
    }
    if (inserted.affectedRows !== 1) throw new Refusal(404, 'SEAT_NOT_FOUND');
    const id = inserted.insertId;
    const [seat] = await conn.execute(
      `UPDATE seats SET status = 'HELD', hold_expires_at = UTC_TIMESTAMP(3) + INTERVAL ? SECOND,
              reservation_id = ?, updated_at = UTC_TIMESTAMP(3)
        WHERE id = ? AND (status = 'AVAILABLE' OR (status = 'HELD' AND hold_expires_at <= UTC_TIMESTAMP(3)))`,
      [HOLD_SECONDS, id, seatId],
    );
    if (seat.affectedRows !== 1) throw new Refusal(409, 'SEAT_UNAVAILABLE');
    const view = { id, userId, scheduleId, seatId, status: 'HELD' };
    await conn.execute(OUTBOX_INSERT, outboxRow('reservation.held', `reservation/${id}`, view));
    return view;
  });
  void reply.status(201);
  return reservation;
});

app.post('/payments', async (request, reply) => {
  const userId = await bearer(request);
  const { token, k } = await activeToken(request, userId);
  const reservationId = Number(request.body?.reservationIds?.[0]);
  const payment = await inTransaction(async (conn) => {
    const [[held]] = await conn.execute(
      `SELECT id, seat_id, price FROM reservations
        WHERE id = ? AND user_id = ? AND status = 'HELD' AND expires_at > UTC_TIMESTAMP(3) FOR UPDATE`,
      [reservationId, userId],
    );
    if (!held) throw new Refusal(409, 'RESERVATION_NOT_HELD');
    const [opened] = await conn.execute(
      `INSERT INTO payments (user_id, amount, status, paid_at, created_at)
       VALUES (?, ?, 'COMPLETED', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))`,
      [userId, held.price],
    );
    const paymentId = opened.insertId;
    const [debit] = await conn.execute(
      `UPDATE cash_wallets SET balance = LAST_INSERT_ID(balance - ?), updated_at = UTC_TIMESTAMP(3)
        WHERE user_id = ? AND balance >= ?`,
      [held.price, userId, held.price],
    );
    if (debit.affectedRows !== 1) throw new Refusal(422, 'INSUFFICIENT_BALANCE');
    await conn.execute(
      `INSERT INTO cash_history (user_id, type, amount, balance_after, payment_id, created_at)
       VALUES (?, 'PAYMENT', ?, ?, ?, UTC_TIMESTAMP(3))`,
      [userId, -held.price, debit.insertId, paymentId],
    );
    await conn.execute(
      `INSERT INTO payment_items
         (payment_id, reservation_id, concert_id, concert_title, schedule_id, starts_at,
          seat_id, seat_number, price)
       SELECT ?, r.id, c.id, c.title, cs.id, cs.starts_at, r.seat_id, r.seat_number, r.price
         FROM reservations r JOIN concert_schedules cs ON cs.id = r.schedule_id
         JOIN concerts c ON c.id = cs.concert_id
        WHERE r.id = ?`,
      [paymentId, reservationId],
    );
    await conn.execute(
      `UPDATE reservations SET status = 'CONFIRMED', payment_id = ?, updated_at = UTC_TIMESTAMP(3)
        WHERE id = ?`,
      [paymentId, reservationId],
    );
    await conn.execute(
      `UPDATE seats SET status = 'SOLD', hold_expires_at = NULL, updated_at = UTC_TIMESTAMP(3)
        WHERE id = ? AND status = 'HELD' AND reservation_id = ?`,
      [held.seat_id, reservationId],
    );
    const view = { id: paymentId, userId, amount: held.price, reservationIds: [reservationId] };
    await conn.execute(OUTBOX_INSERT, outboxRow('payment.completed', `payment/${paymentId}`, view));
    return view;
  });
  // After the commit, as the service does: the payer's ACTIVE slot goes to the next in line.
  await redis
    .pipeline()
    .zrem(k.active, token)
    .hdel(k.owners, token)
    .hdel(k.users, userId)
    .set(k.retired(token), userId, 'EX', RETIRED_SECONDS)
    .exec();
  void reply.status(201);
  return payment;
});

app.addHook('onClose', async () => {
  await Promise.all([redis.quit(), db.end()]);
});

await redis.connect();
await app.listen({ port: int('PORT', 3198), host: '127.0.0.1' });
const stop = () => void app.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
