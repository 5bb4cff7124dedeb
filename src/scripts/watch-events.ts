import { connect } from 'amqplib';
import { parseArgs } from 'node:util';
import { redactUrl } from '../common/outbox/outbox.constants';

/**
 * Prints the booking events as the relay publishes them: a temporary queue (exclusive and
 * auto-deleted, so it is gone when this exits) bound to the events exchange. A consumer of ours
 * for watching, not a service: it reads the broker settings the API uses, or flags.
 *
 *   node dist/scripts/watch-events.js [--pattern 'payment.*'] [--json]
 *                                     [--url amqp://guest:guest@127.0.0.1:5672] [--exchange name]
 *
 * `--pattern` is a topic binding over the event type (`#` = all, `reservation.*`, `cash.charged`).
 * Without `--json` each event is one line: time, type, subject, id, data.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      exchange: { type: 'string' },
      pattern: { type: 'string', default: '#' },
      json: { type: 'boolean', default: false },
    },
  });
  // A command-line tool: it reads its two settings directly rather than validating the whole
  // service environment (which would demand the service's secrets).
  const url = values.url ?? process.env.EVENTS_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
  const exchange = values.exchange ?? process.env.EVENTS_EXCHANGE ?? 'concert-booking.events';

  const connection = await connect(url, { clientProperties: { connection_name: 'watch-events' } });
  const channel = await connection.createChannel();
  await channel.assertExchange(exchange, 'topic', { durable: true });
  const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
  await channel.bindQueue(queue, exchange, values.pattern);
  console.error(
    `watching ${exchange} (${values.pattern}) on ${redactUrl(url)}; events arrive at least once, dedupe by id. Ctrl-C stops.`,
  );

  await channel.consume(
    queue,
    (message) => {
      if (!message) return;
      const text = message.content.toString('utf8');
      if (values.json) {
        console.log(text);
        return;
      }
      const event = JSON.parse(text) as {
        id: string;
        type: string;
        subject: string;
        time: string;
        data: unknown;
      };
      console.log(
        `${event.time}  ${event.type.padEnd(21)} ${event.subject.padEnd(44)} ${event.id}  ${JSON.stringify(event.data)}`,
      );
    },
    { noAck: true },
  );

  const stop = () => {
    void connection.close().finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
