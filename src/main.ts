import 'reflect-metadata';
import { ConfigService } from '@nestjs/config';
import { createApp, LISTEN_BACKLOG } from './app.factory';

async function bootstrap(): Promise<void> {
  const app = await createApp();
  const port = app.get(ConfigService).getOrThrow<number>('app.port');
  await app.listen({ port, host: '0.0.0.0', backlog: LISTEN_BACKLOG });
}

bootstrap().catch((error: unknown) => {
  // Config and connection failures at boot end here: print the reason, exit non-zero.
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
