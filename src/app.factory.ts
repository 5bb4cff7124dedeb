import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { AppModule } from './app.module';
import {
  appConfig,
  AppConfig,
  overloadConfig,
  OverloadConfig,
} from './common/config/configuration';
import { ProblemDetailsFilter } from './common/errors/problem-details.filter';
import { installHttpHygiene } from './common/http/http-hygiene';
import { createHttpServer } from './common/http/http-server';
import type { RequestListener } from './common/http/request-pacing';
import { installOverloadProtection } from './common/http/overload-protection';
import { installRequestDeadline } from './common/http/request-deadline';
import { createPino, installAccessLog, JsonLogger } from './common/logging/json-logger';
import { createValidationPipe } from './common/http/validation';
import { installHttpMetrics } from './common/metrics/http-metrics';
import { MetricsService } from './common/metrics/metrics.service';
import { BEARER_SCHEME } from './modules/auth/presentation/bearer-auth.guard';

export const BODY_LIMIT_BYTES = 64 * 1024;
/**
 * Accept queue for new connections. An on-sale burst opens thousands of connections at once; past
 * Node's default (511) the kernel drops SYNs and clients wait 1 s, 3 s, 7 s to retry, which looks
 * like a hang. Capped by net.core.somaxconn.
 */
export const LISTEN_BACKLOG = 4096;
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

export function buildOpenApiDocument(app: NestFastifyApplication) {
  const config = new DocumentBuilder()
    .setTitle('Concert booking API')
    .setDescription(
      'Waiting queue, seat holds, prepaid cash and payments. Errors are RFC 9457 problem+json ' +
        'with a stable `code`. Endpoints with the bearer lock act for the caller only; those ' +
        'with the Queue-Token header also need the caller’s ACTIVE token.',
    )
    .setVersion('2.0.0')
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description: 'An access token from POST /auth/tokens (or the configured identity provider)',
      },
      BEARER_SCHEME,
    )
    .addApiKey({ type: 'apiKey', in: 'header', name: 'Queue-Token' }, 'queue-token')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-Admin-Key' }, 'admin-key')
    .build();
  return SwaggerModule.createDocument(app, config);
}

/**
 * Builds the whole application exactly as production runs it; main.ts and the e2e tests share it.
 * The caller decides whether to listen.
 */
export async function createApp(): Promise<NestFastifyApplication> {
  const { trustedProxies, requestTimeoutMs } = appConfig();
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    // Our own server: request, header, keep-alive and idle timeouts, and paced requests so a
    // saturated instance still accepts new connections (src/common/http/http-server.ts).
    serverFactory: (listener: RequestListener) => createHttpServer(listener, requestTimeoutMs),
    // request.ip is the socket peer, or, when that peer is a trusted proxy, the right-most
    // X-Forwarded-For hop that is not one (proxy-addr): a client cannot forge its own address
    // by sending the header itself. Per-address limits count that address.
    trustProxy: trustedProxies.length > 0 ? trustedProxies : false,
    genReqId: (request: IncomingMessage) => {
      const incoming = request.headers['x-request-id'];
      const id =
        typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
      request.headers['x-request-id'] = id;
      return id;
    },
  });
  // bodyParser: false keeps Fastify's own JSON parser only, so a form-encoded body gets 415 like
  // any other non-JSON body instead of being parsed by @fastify/formbody.
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(), adapter, {
    bufferLogs: true,
    bodyParser: false,
  });
  const pino = createPino(app.get<AppConfig>(appConfig.KEY).logLevel);
  app.useLogger(new JsonLogger(pino));

  // Errors Fastify raises itself (body too large, bad JSON, wrong content type) are routed by Nest
  // to the same global filter as HttpExceptions, so they get problem+json too.
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('X-Request-Id', request.id);
    done();
  });
  installHttpHygiene(fastify);
  installAccessLog(fastify, pino);
  // Metrics first so they see every response, including the 503s of the overload guard.
  const metrics = app.get(MetricsService);
  installHttpMetrics(fastify, metrics);
  installOverloadProtection(app, app.get<OverloadConfig>(overloadConfig.KEY), metrics);
  installRequestDeadline(fastify, app.get<AppConfig>(appConfig.KEY).requestDeadlineMs);

  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ProblemDetailsFilter());

  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs-json',
  });
  await app.init();
  return app;
}
