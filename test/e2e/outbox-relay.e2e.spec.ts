import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import { createConcert, createSchedule } from '../factories/catalogue.factory';
import { sql, startApp } from '../support/app';
import { call, charge, Fan, fansWithActiveTokens, RACE_ENV, tally } from '../support/booking';
import { eventually } from '../support/eventually';
import {
  amqpUrl,
  CloudEvent,
  deleteTestExchange,
  EventConsumer,
  eventuallyReceived,
  metricValue,
  OutboxRow,
  outboxRows,
  relayEnv,
} from '../support/events';
import { TcpProxy } from '../support/tcp-proxy';

/** The envelope the relay must publish for an outbox row. */
function envelopeOf(row: OutboxRow): CloudEvent {
  return {
    specversion: '1.0',
    id: row.event_id,
    source: 'concert-booking',
    type: row.type,
    subject: row.subject,
    time: row.created_at.toISOString(),
    datacontenttype: 'application/json',
    data: JSON.parse(row.data) as unknown,
  };
}

/** Rows of these subjects, in commit order. */
async function rowsOf(app: NestFastifyApplication, subjects: Set<string>): Promise<OutboxRow[]> {
  return (await outboxRows(app)).filter((row) => subjects.has(row.subject));
}

/**
 * Every subject's deduped deliveries are exactly its outbox rows in commit order: none lost,
 * none extra, none reordered.
 */
function expectDeliveredInCommitOrder(consumer: EventConsumer, rows: OutboxRow[]) {
  const delivered = consumer.bySubject();
  const committed = new Map<string, string[]>();
  for (const row of rows)
    committed.set(row.subject, [...(committed.get(row.subject) ?? []), row.event_id]);
  for (const [subject, ids] of committed) {
    expect({ subject, ids: (delivered.get(subject) ?? []).map((event) => event.id) }).toEqual({
      subject,
      ids,
    });
  }
}

describe('outbox relay to RabbitMQ (e2e)', () => {
  const apps: NestFastifyApplication[] = [];
  const consumers: EventConsumer[] = [];

  async function app(env: Record<string, string> = {}) {
    const started = await startApp({ ...RACE_ENV, ...env });
    apps.push(started);
    return started;
  }

  async function consumer(pattern = '#') {
    const started = await EventConsumer.start(pattern);
    consumers.push(started);
    return started;
  }

  afterEach(async () => {
    // Closing must leave no timer or AMQP connection behind, or Jest would not exit.
    await Promise.all(apps.splice(0).map((a) => a.close()));
    await Promise.all(consumers.splice(0).map((c) => c.close()));
  });

  afterAll(async () => {
    await deleteTestExchange();
  });

  function hold(on: NestFastifyApplication, fan: Fan, scheduleId: number, seatId: number) {
    return call(on, 'POST', '/reservations', {
      user: fan.userId,
      token: fan.token,
      body: { scheduleId, seatId },
    });
  }

  it('should publish each committed event as a CloudEvents envelope routed by its type, persistent, and mark it sent', async () => {
    const all = await consumer('#');
    const paymentsOnly = await consumer('payment.*');
    const relay = await app(relayEnv());
    const concertId = (await createConcert(relay)).id;
    const [fan] = await fansWithActiveTokens(relay, 1, concertId);
    const schedule = await createSchedule(relay, concertId, { seatCount: 2 });

    await charge(relay, fan.userId, 100_000);
    const held = await hold(relay, fan, schedule.id, schedule.seats[0].id);
    const paid = await call(relay, 'POST', '/payments', {
      user: fan.userId,
      token: fan.token,
      body: { reservationIds: [held.body.id] },
    });
    expect(paid.status).toBe(201);
    const subjects = new Set([
      `user/${fan.userId}`,
      `reservation/${held.body.id}`,
      `payment/${paid.body.id}`,
    ]);
    const rows = await rowsOf(relay, subjects);
    expect(rows.map((row) => row.type)).toEqual([
      'cash.charged',
      'reservation.held',
      'payment.completed',
    ]);

    await eventually(async () => {
      expect(all.deduped().filter((event) => subjects.has(event.subject))).toHaveLength(3);
      expect(await rowsOf(relay, subjects)).toEqual(
        rows.map((row) => ({ ...row, sent_at: expect.any(Date) as Date })),
      );
    });
    for (const row of rows) {
      const delivery = all.deliveries.find((d) => d.event.id === row.event_id)!;
      expect(delivery.event).toEqual(envelopeOf(row));
      expect(delivery.routingKey).toBe(row.type);
      expect(delivery.properties).toMatchObject({
        deliveryMode: 2,
        contentType: 'application/cloudevents+json; charset=utf-8',
        messageId: row.event_id,
        type: row.type,
        appId: 'concert-booking',
      });
    }
    expect(paymentsOnly.deduped().map((event) => event.subject)).toEqual([
      `payment/${paid.body.id}`,
    ]);
    expect(paymentsOnly.deduped()[0].data).toEqual(paid.body);
    await expect(metricValue(relay, 'outbox_backlog_events')).resolves.toBe(0);
    await expect(metricValue(relay, 'outbox_relay_connected')).resolves.toBe(1);
    await expect(
      metricValue(relay, 'outbox_events_published_total'),
    ).resolves.toBeGreaterThanOrEqual(3);
  });

  it('should deliver every event once after dedupe and in commit order per subject while three instances relay at once', async () => {
    const SUBJECTS = 6;
    const CHARGES_PER_PHASE = 40;
    const delivered = await consumer('#');
    // Phase 1: a backlog written with no relay running, that three relays then start on at once.
    const writer = await app();
    const concertId = (await createConcert(writer)).id;
    const fans = await fansWithActiveTokens(writer, SUBJECTS + 10, concertId);
    const payers = fans.slice(0, SUBJECTS);
    const chargeEach = (on: (i: number) => NestFastifyApplication) =>
      Promise.all(
        payers.map(async (fan) => {
          // Four at a time per user: concurrent charges of one subject, serialised by its wallet.
          for (let i = 0; i < CHARGES_PER_PHASE; i += 4) {
            const replies = await Promise.all(
              [0, 1, 2, 3].map((k) =>
                call(on(i + k), 'POST', `/users/${fan.userId}/cash/charges`, {
                  user: fan.userId,
                  body: { amount: 1_000 },
                }),
              ),
            );
            expect(tally(replies)).toEqual({ '200': 4 });
          }
        }),
      );
    await chargeEach(() => writer);
    const schedule = await createSchedule(writer, concertId, { seatCount: 10 });
    const holders = fans.slice(SUBJECTS);
    const subjects = new Set(payers.map((fan) => `user/${fan.userId}`));
    for (const [i, fan] of holders.entries()) {
      const held = await hold(writer, fan, schedule.id, schedule.seats[i].id);
      subjects.add(`reservation/${held.body.id}`);
      await call(writer, 'DELETE', `/reservations/${held.body.id}`, {
        user: fan.userId,
        token: fan.token,
      });
    }

    const relays = await Promise.all([1, 2, 3].map(() => app(relayEnv())));
    // Phase 2: more events of the same subjects, written through all three relaying instances.
    await chargeEach((i) => relays[i % relays.length]);

    const rows = await rowsOf(writer, subjects);
    expect(rows.filter((row) => row.type === 'cash.charged')).toHaveLength(
      SUBJECTS * CHARGES_PER_PHASE * 2,
    );
    await eventuallyReceived(() => {
      expect(delivered.deduped().filter((event) => subjects.has(event.subject))).toHaveLength(
        rows.length,
      );
    }, 30_000);

    expectDeliveredInCommitOrder(delivered, rows);
    for (const fan of payers) {
      const balances = (delivered.bySubject().get(`user/${fan.userId}`) ?? []).map(
        (event) => (event.data as { balance: number }).balance,
      );
      expect(balances).toEqual(
        Array.from({ length: CHARGES_PER_PHASE * 2 }, (_, i) => (i + 1) * 1_000),
      );
    }
    await eventually(async () => {
      const [left] = await sql<{ n: number }[]>(
        writer,
        'SELECT COUNT(*) AS n FROM outbox_events WHERE sent_at IS NULL',
      );
      expect(Number(left.n)).toBe(0);
    });
    // The instances shared the work: a single leader would also pass the checks above.
    const perRelay = await Promise.all(
      relays.map((relay) => metricValue(relay, 'outbox_events_published_total')),
    );
    expect(perRelay.filter((published) => published > 0).length).toBeGreaterThanOrEqual(2);
  });

  it('should fail no payment and lose no payment.completed when the broker link is cut for 10 s during 200 payments', async () => {
    const PAYMENTS = 200;
    const broker = new URL(amqpUrl());
    const proxy = new TcpProxy(broker.hostname, Number(broker.port || 5672));
    await proxy.start();
    const viaProxy = new URL(amqpUrl());
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const completed = await consumer('payment.completed');
    try {
      const relay = await app(relayEnv(viaProxy.toString()));
      const concertId = (await createConcert(relay)).id;
      const fans = await fansWithActiveTokens(relay, PAYMENTS, concertId);
      const schedule = await createSchedule(relay, concertId, { seatCount: PAYMENTS });
      await Promise.all(fans.map((fan) => charge(relay, fan.userId, 50_000)));
      const holds: number[] = [];
      for (let start = 0; start < PAYMENTS; start += 25) {
        const replies = await Promise.all(
          fans
            .slice(start, start + 25)
            .map((fan, i) => hold(relay, fan, schedule.id, schedule.seats[start + i].id)),
        );
        expect(tally(replies)).toEqual({ '201': replies.length });
        holds.push(...replies.map((reply) => reply.body.id as number));
      }

      // Ten payers at a steady pace for about 16 s; the link is down from 3 s to 13 s.
      const started = Date.now();
      const outage = (async () => {
        await sleep(3_000);
        await proxy.cut();
        await sleep(10_000);
        await proxy.restore();
      })();
      const paymentIds: number[] = [];
      const statuses: number[] = [];
      await Promise.all(
        Array.from({ length: 10 }, async (_, worker) => {
          for (let i = worker; i < PAYMENTS; i += 10) {
            const paid = await call(relay, 'POST', '/payments', {
              user: fans[i].userId,
              token: fans[i].token,
              body: { reservationIds: [holds[i]] },
            });
            statuses.push(paid.status);
            if (paid.status === 201) paymentIds.push(paid.body.id as number);
            await sleep(800);
          }
        }),
      );
      await outage;
      expect(Date.now() - started).toBeGreaterThan(13_000);
      expect(statuses.filter((status) => status !== 201)).toEqual([]);
      await expect(metricValue(relay, 'outbox_publish_failures_total')).resolves.toBeGreaterThan(0);

      await eventuallyReceived(() => {
        const subjects = new Set(completed.deduped().map((event) => event.subject));
        expect(paymentIds.filter((id) => !subjects.has(`payment/${id}`))).toEqual([]);
      }, 60_000);
      const paid = new Set(paymentIds.map((id) => `payment/${id}`));
      expect(completed.deduped().filter((event) => paid.has(event.subject))).toHaveLength(PAYMENTS);
      await eventually(async () => {
        await expect(metricValue(relay, 'outbox_backlog_events')).resolves.toBe(0);
      });
    } finally {
      await proxy.cut();
    }
  });
});
