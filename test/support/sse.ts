import { request as httpRequest, IncomingMessage } from 'node:http';

export interface ServerSentEvent {
  event: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- asserted field by field
  data: any;
  receivedAt: number;
}

export interface EventStreamClient {
  status: number;
  headers: IncomingMessage['headers'];
  /** The body of a non-stream answer (an error), parsed. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- asserted field by field
  body?: any;
  events: ServerSentEvent[];
  /** Resolves with the first event of that name (already received or still to come). */
  next(event: string, timeoutMs?: number): Promise<ServerSentEvent>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

/** A minimal EventSource over a real socket: GET with a Queue-Token, events parsed as they come. */
export function openEventStream(baseUrl: string, token: string): Promise<EventStreamClient> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${baseUrl}/queue/events`, {
      headers: { 'queue-token': token, accept: 'text/event-stream' },
    });
    request.on('error', reject);
    request.on('response', (response) => {
      const events: ServerSentEvent[] = [];
      const waiters: { event: string; resolve: (e: ServerSentEvent) => void }[] = [];
      let buffer = '';
      let endStream!: () => void;
      const ended = new Promise<void>((done) => (endStream = done));
      response.setEncoding('utf8');
      const client: EventStreamClient = {
        status: response.statusCode ?? 0,
        headers: response.headers,
        events,
        ended,
        next(event, timeoutMs = 5000) {
          const seen = events.find((e) => e.event === event);
          if (seen) return Promise.resolve(seen);
          return new Promise((found, fail) => {
            const timer = setTimeout(
              () => fail(new Error(`no "${event}" event in ${timeoutMs} ms`)),
              timeoutMs,
            );
            waiters.push({
              event,
              resolve: (e) => {
                clearTimeout(timer);
                found(e);
              },
            });
          });
        },
        close() {
          request.destroy();
        },
      };
      if (!String(response.headers['content-type']).startsWith('text/event-stream')) {
        let raw = '';
        response.on('data', (chunk: string) => (raw += chunk));
        response.on('end', () => {
          client.body = raw ? JSON.parse(raw) : undefined;
          endStream();
          resolve(client);
        });
        return;
      }
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let boundary: number;
        while ((boundary = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary + 2);
          const fields = Object.fromEntries(
            block
              .split('\n')
              .map((line) => [
                line.slice(0, line.indexOf(':')),
                line.slice(line.indexOf(':') + 1).trim(),
              ]),
          );
          if (!fields.event) continue; // the `retry:` preamble
          const parsed = {
            event: fields.event,
            data: JSON.parse(fields.data),
            receivedAt: Date.now(),
          };
          events.push(parsed);
          for (const waiter of waiters.filter((w) => w.event === parsed.event))
            waiter.resolve(parsed);
        }
      });
      response.on('end', endStream);
      response.on('close', endStream);
      resolve(client);
    });
    request.end();
  });
}
