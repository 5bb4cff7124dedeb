import { HttpException, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { DomainError } from './domain-error';
import { ERROR_SPECS, ErrorCode } from './error-codes';
import { resolveProblem } from './problem-details';

describe('resolveProblem', () => {
  it('should map every domain code to the status of the one table', () => {
    for (const code of Object.values(ErrorCode)) {
      const { problem } = resolveProblem(new DomainError(code, 'detail'));
      expect(problem).toMatchObject({ code, status: ERROR_SPECS[code].status, detail: 'detail' });
      expect(problem.type).toMatch(/^https:\/\//);
    }
  });

  it('should hide the message of an unexpected error', () => {
    const resolved = resolveProblem(new Error("ER_PARSE_ERROR near 'SELECT * FROM users'"));
    expect(resolved.unexpected).toBe(true);
    expect(resolved.problem.code).toBe('INTERNAL_ERROR');
    expect(JSON.stringify(resolved.problem)).not.toContain('SELECT');
  });

  it('should answer 503 with Retry-After when MySQL refuses connections', () => {
    const error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3306'), {
      code: 'ECONNREFUSED',
    });
    const resolved = resolveProblem(error);
    expect(resolved.problem.status).toBe(503);
    expect(resolved.retryAfterSeconds).toBeGreaterThan(0);
    expect(resolved.problem.detail).not.toContain('3306');
  });

  it('should answer 503 when ioredis gives up on a command', () => {
    const resolved = resolveProblem(
      new Error("Stream isn't writeable and enableOfflineQueue options is false"),
    );
    expect(resolved.problem.code).toBe('SERVICE_UNAVAILABLE');
  });

  it('should answer 503 when the Redis Cluster has no master for a slot right now', () => {
    for (const message of [
      "Cluster isn't ready and enableOfflineQueue options is false",
      'None of startup nodes is available',
      'CLUSTERDOWN The cluster is down',
      'MOVED 2705 127.0.0.1:7001',
      'Too many Cluster redirections. Last error: Error: Connection is closed.',
    ]) {
      expect(resolveProblem(new Error(message)).problem.code).toBe('SERVICE_UNAVAILABLE');
    }
    // A script refused for its keys is a bug, not an outage.
    expect(
      resolveProblem(new Error("CROSSSLOT Keys in request don't hash to the same slot")).problem
        .code,
    ).toBe('INTERNAL_ERROR');
  });

  it('should answer 503 when a TypeORM query fails on a lost connection', () => {
    const error = Object.assign(new Error('Query failed'), {
      driverError: { code: 'PROTOCOL_CONNECTION_LOST' },
    });
    expect(resolveProblem(error).problem.status).toBe(503);
  });

  it('should map framework exceptions to contract codes', () => {
    expect(resolveProblem(new NotFoundException()).problem.code).toBe('ROUTE_NOT_FOUND');
    expect(resolveProblem(new HttpException('too big', 413)).problem.code).toBe(
      'PAYLOAD_TOO_LARGE',
    );
    expect(resolveProblem(new HttpException('bad type', 415)).problem.code).toBe(
      'UNSUPPORTED_MEDIA_TYPE',
    );
    expect(resolveProblem(new ServiceUnavailableException()).problem.code).toBe(
      'SERVICE_UNAVAILABLE',
    );
  });

  it('should list field errors for validation failures', () => {
    const { problem } = resolveProblem(
      DomainError.validation([{ field: 'name', message: 'too long' }]),
    );
    expect(problem.errors).toEqual([{ field: 'name', message: 'too long' }]);
  });
});
