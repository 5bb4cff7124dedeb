// The seat map read (GET /concerts/{id}/schedules/{id}/seats, 500 seats) against the status poll,
// alternating on one built instance: the catalogue read that grows with the admitted crowd, for
// the capacity model in docs/scaling.md.
// Usage: npm run build && node bench/seat-map.mjs   (env: BENCH_DURATION seconds, default 8)
import { setTimeout as sleep } from 'node:timers/promises';
import {
  closeBenchDb,
  createBookableSeats,
  insertUsers,
  issueQueueTokens,
  load,
  printTable,
  removeRedisKeys,
  startServer,
} from './lib.mjs';

const DURATION = Number(process.env.BENCH_DURATION ?? 8);
const ROUNDS = 2;
const prefix = `bench:seat-map:${Date.now()}:`;
const server = await startServer({
  port: Number(process.env.BENCH_PORT ?? 3112),
  cpu: 0,
  env: {
    REDIS_KEY_PREFIX: prefix,
    QUEUE_MAX_ACTIVE_USERS: '100000',
    QUEUE_ADMIT_PER_SECOND: '100000',
    QUEUE_ACTIVE_TTL_SECONDS: '3600',
  },
});
try {
  const seats = await createBookableSeats(server.url, {
    title: 'Seat map bench',
    count: 500,
    seatsPerSchedule: 500,
  });
  const fans = await insertUsers(200, 'seat-map-bench');
  const tokens = await issueQueueTokens(server.url, fans, seats.concertId);
  await sleep(2_500); // the admission job (each second) lets all 200 in
  const seatMap = `/concerts/${seats.concertId}/schedules/${seats[0].scheduleId}/seats`;
  const rows = [];
  for (let round = 0; round < ROUNDS; round++) {
    let i = 0;
    rows.push(
      await load('seat map read (500 seats)', {
        url: server.url,
        duration: DURATION,
        requests: [
          {
            method: 'GET',
            path: seatMap,
            setupRequest: (request) => {
              const k = i++ % fans.length;
              return { ...request, headers: { ...fans[k].auth, 'queue-token': tokens[k] } };
            },
          },
        ],
      }),
    );
    let j = 0;
    rows.push(
      await load('status poll', {
        url: server.url,
        duration: DURATION,
        requests: [
          {
            method: 'GET',
            path: '/queue/status',
            setupRequest: (request) => ({
              ...request,
              headers: { 'queue-token': tokens[j++ % tokens.length] },
            }),
          },
        ],
      }),
    );
  }
  printTable(rows);
} finally {
  await server.stop();
  await closeBenchDb();
  await removeRedisKeys(prefix);
}
