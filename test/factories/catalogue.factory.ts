import { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { ADMIN_KEY, http } from '../support/app';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export async function createConcert(
  app: NestFastifyApplication,
  body: { title?: string; performer?: string } = {},
): Promise<{ id: number; title: string }> {
  const response = await request(http(app))
    .post('/admin/concerts')
    .set('X-Admin-Key', ADMIN_KEY)
    .send({ title: 'Test Concert', ...body })
    .expect(201);
  return response.body as { id: number; title: string };
}

export interface CreatedSchedule {
  id: number;
  concertId: number;
  totalSeats: number;
  seats: { id: number; number: number; price: number; status: string }[];
}

/** A schedule whose booking window is open now unless overridden. */
export async function createSchedule(
  app: NestFastifyApplication,
  concertId: number,
  overrides: Record<string, unknown> = {},
): Promise<CreatedSchedule> {
  const now = Date.now();
  const response = await request(http(app))
    .post(`/admin/concerts/${concertId}/schedules`)
    .set('X-Admin-Key', ADMIN_KEY)
    .send({
      startsAt: new Date(now + 8 * DAY).toISOString(),
      bookingOpensAt: new Date(now - HOUR).toISOString(),
      bookingClosesAt: new Date(now + 7 * DAY).toISOString(),
      ...overrides,
    })
    .expect(201);
  return response.body as CreatedSchedule;
}

export async function createConcertWithSchedule(
  app: NestFastifyApplication,
  scheduleOverrides: Record<string, unknown> = {},
): Promise<{ concertId: number; schedule: CreatedSchedule }> {
  const concert = await createConcert(app);
  const schedule = await createSchedule(app, concert.id, scheduleOverrides);
  return { concertId: concert.id, schedule };
}
