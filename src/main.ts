import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { createApp, LISTEN_BACKLOG } from './app.factory';
import { trackConnections } from './common/http/graceful-shutdown';

/**
 * How long a SIGTERM waits for the requests in progress. Each is bounded by the request deadline
 * (10 s by default) and most take milliseconds; 8 s plus closing the pools keeps the exit within
 * the 10 s an orchestrator allows before it kills (compose's stop_grace_period is 15 s).
 */
const DRAIN_GRACE_MS = 8_000;
/** Past this the process exits non-zero whatever is still closing. */
const HARD_EXIT_MS = 9_500;

async function bootstrap(): Promise<void> {
  const app = await createApp();
  const port = app.get(ConfigService).getOrThrow<number>('app.port');
  const drainer = trackConnections(app.getHttpServer());
  await app.listen({ port, host: '0.0.0.0', backlog: LISTEN_BACKLOG });

  const logger = new Logger('Shutdown');
  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => {
      logger.error(`still closing ${HARD_EXIT_MS} ms after ${signal}; exiting`);
      process.exit(1);
    }, HARD_EXIT_MS).unref();
    logger.log(`${signal}: draining connections`);
    // HTTP first: Nest's own shutdown closes MySQL and Redis before the server, which would turn
    // the requests still in progress into 503s.
    const { forced, elapsedMs } = await drainer.drain(DRAIN_GRACE_MS);
    logger.log({ forced, elapsedMs }, 'connections drained');
    await app.close();
    process.exit(0);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, (received) => {
      shutdown(received).catch((error: unknown) => {
        logger.error(error instanceof Error ? error.stack : String(error));
        process.exit(1);
      });
    });
  }
}

bootstrap().catch((error: unknown) => {
  // Config and connection failures at boot end here: print the reason, exit non-zero.
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
