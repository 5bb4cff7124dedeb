import { Writable } from 'node:stream';
import { createPino, JsonLogger } from './json-logger';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, logger: new JsonLogger(createPino('info', stream)) };
}

describe('JsonLogger redaction', () => {
  it('should never write the SQL or bound values of a failed query', () => {
    const { lines, logger } = capture();
    const failure = Object.assign(new Error('Duplicate entry'), {
      sql: "INSERT INTO users (email) VALUES ('kim@example.com')",
      parameters: ['kim@example.com', '$argon2id$v=19$secret'],
      driverError: { sql: 'SELECT secret', parameters: ['p'] },
    });
    logger.error({ requestId: 'r1', err: failure }, 'stack');
    const line = lines.join('');
    expect(line).not.toContain('kim@example.com');
    expect(line).not.toContain('argon2id');
    expect(line).not.toContain('SELECT secret');
    expect(line).toContain('r1');
  });

  it('should never write credentials or token headers', () => {
    const { lines, logger } = capture();
    logger.warn({
      body: { password: 'hunter2-hunter2' },
      request: { headers: { authorization: 'Bearer eyJ.x.y', 'x-admin-key': 'k'.repeat(40) } },
    });
    const line = lines.join('');
    expect(line).not.toContain('hunter2');
    expect(line).not.toContain('eyJ.x.y');
    expect(line).not.toContain('k'.repeat(40));
  });
});
