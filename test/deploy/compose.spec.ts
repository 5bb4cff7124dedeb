import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

interface ComposeService {
  environment?: Record<string, string>;
  stop_grace_period?: string;
}

const compose = parse(readFileSync(join(__dirname, '../../docker-compose.yml'), 'utf8'), {
  merge: true,
}) as { services: Record<string, ComposeService> };
const replicas = Object.entries(compose.services).filter(([name]) => /^api-\d+$/.test(name));

function seconds(duration: string | undefined): number {
  const match = /^(\d+)s$/.exec(duration ?? '');
  return match ? Number(match[1]) : 0;
}

describe('docker-compose.yml', () => {
  it('should have three API replicas', () => {
    expect(replicas.map(([name]) => name)).toEqual(['api-1', 'api-2', 'api-3']);
  });

  it.each(['RESERVATION_SEAT_LOCK', 'OVERLOAD_RETRY_AFTER_SECONDS', 'OVERLOAD_MAX_IN_FLIGHT'])(
    'should pass %s through to every replica',
    (name) => {
      for (const [, service] of replicas) {
        expect(service.environment?.[name]).toMatch(new RegExp(`^\\$\\{${name}:-.+\\}$`));
      }
    },
  );

  it('should give every replica a stop grace period beyond its own 10 s shutdown bound', () => {
    for (const [, service] of replicas) {
      expect(seconds(service.stop_grace_period)).toBeGreaterThan(10);
    }
  });
});
