import { connect } from 'amqplib';
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
const START_TIMEOUT_MS = 90_000;

/** True when an AMQP handshake (not just a TCP connect) succeeds at `url`. */
export async function amqpAnswers(url: string, timeoutMs = 3000): Promise<boolean> {
  try {
    const connection = await connect(url, { timeout: timeoutMs });
    await connection.close();
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes sure RabbitMQ answers at `url`: a local broker that is down is started with
 * `rabbitmq-server -detached` (as on the CI machine, where it is installed from Debian's
 * packages), then waited for. Returns false, without throwing, when it cannot be had: only the
 * event tests need it, and they then fail with a clear message instead of every file failing.
 */
export async function ensureRabbitMq(url: string): Promise<boolean> {
  if (await amqpAnswers(url)) return true;
  if (!LOCAL_HOSTS.has(new URL(url).hostname)) return false;
  const started = await new Promise<boolean>((resolve) => {
    execFile('rabbitmq-server', ['-detached'], { timeout: 30_000 }, (error) => resolve(!error));
  });
  if (!started) return false;
  // The node boots in the background; the AMQP listener opens last.
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await amqpAnswers(url)) return true;
    await sleep(1000);
  }
  return false;
}
