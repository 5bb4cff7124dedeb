import { NestFastifyApplication } from '@nestjs/platform-fastify';
import Redis from 'ioredis';
import { AUDIT_KEYS } from '../../src/modules/audit/audit.constants';
import { ADMIN_KEY } from './app';

export interface AuditBody {
  checkedAt: string;
  ok: boolean;
  violations: { rule: string; count: number; examples: (number | string)[] }[];
}

/** GET /admin/audit through the whole pipeline (admin key unless `adminKey` says otherwise). */
export async function getAudit(
  app: NestFastifyApplication,
  adminKey: string | null = ADMIN_KEY,
): Promise<{ status: number; body: AuditBody; headers: Record<string, unknown> }> {
  const response = await app.inject({
    method: 'GET',
    url: '/admin/audit',
    headers: adminKey === null ? {} : { 'x-admin-key': adminKey },
  });
  return {
    status: response.statusCode,
    body: response.json<AuditBody>(),
    headers: response.headers,
  };
}

/**
 * The service's own audit over the whole test database (one per test file) must find nothing.
 * Complements assertBookingInvariants: that one is the tests' SQL, this one the shipped audit.
 */
export async function expectAuditOk(app: NestFastifyApplication): Promise<void> {
  const { status, body } = await getAudit(app);
  expect({ status, ok: body.ok, violations: body.violations }).toEqual({
    status: 200,
    ok: true,
    violations: [],
  });
}

/** Forgets every periodic audit of this test file (its Redis prefix), so the next tick runs. */
export async function resetPeriodicAudit(app: NestFastifyApplication): Promise<void> {
  await app.get(Redis).del(...Object.values(AUDIT_KEYS));
}
