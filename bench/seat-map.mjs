// The seat map read (GET /concerts/{id}/schedules/{id}/seats, 500 seats) against the status poll,
// alternating on one built instance: the catalogue read that grows with the admitted crowd, for
// the capacity model in docs/scaling.md.
// Usage: npm run build && node bench/seat-map.mjs   (env: BENCH_DURATION seconds, default 8)
import { setTimeout as sleep } from 'node:timers/promises';
import { createBookableSeats, fansWithTokens, load, pollRequests, runStandalone } from './lib.mjs';

const DURATION = Number(process.env.BENCH_DURATION ?? 8);
const ROUNDS = 2;

async function run({ url }) {
  const seats = await createBookableSeats(url, {
    title: 'Seat map bench',
    count: 500,
    seatsPerSchedule: 500,
  });
  const fans = await fansWithTokens(url, {
    count: 200,
    label: 'seat-map-bench',
    concertId: seats.concertId,
  });
  await sleep(2_500); // the admission job (each second) lets all 200 in
  const seatMap = `/concerts/${seats.concertId}/schedules/${seats[0].scheduleId}/seats`;
  const seatMapRequests = () => {
    let next = 0;
    return [
      {
        method: 'GET',
        path: seatMap,
        setupRequest: (request) => {
          const fan = fans[next++ % fans.length];
          return { ...request, headers: { ...fan.auth, 'queue-token': fan.token } };
        },
      },
    ];
  };
  const tokens = fans.map((fan) => fan.token);
  const rows = [];
  for (let round = 0; round < ROUNDS; round++) {
    const requests = seatMapRequests();
    rows.push(await load('seat map read (500 seats)', { url, duration: DURATION, requests }));
    rows.push(
      await load('status poll', { url, duration: DURATION, requests: pollRequests(tokens) }),
    );
  }
  return rows;
}

await runStandalone('seat-map', {
  port: 3112,
  serverEnv: {
    QUEUE_MAX_ACTIVE_USERS: '100000',
    QUEUE_ADMIT_PER_SECOND: '100000',
    QUEUE_ACTIVE_TTL_SECONDS: '3600',
  },
  run,
});
