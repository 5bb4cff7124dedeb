import { ReservationConfig } from '../../../common/config/configuration';
import { NewHold, Reservation, ReservationStatus, UserSeats } from './reservation';
import { ExpiredHold, ReadAt, ReservationRepository } from './reservation.repository';
import { ReservationService } from './reservation.service';
import { codeOf } from '../../../../test/support/assertions';

const NOW = new Date('2026-12-01T10:00:00.000Z');
const LATER = new Date(NOW.getTime() + 300_000);

/** An in-memory ReservationRepository; "now" is fixed, as the database clock would be. */
class FakeReservationRepository extends ReservationRepository {
  readonly rows = new Map<number, Reservation>();
  private nextId = 1;

  add(userId: string, status: ReservationStatus, expiresAt = LATER, seatId = 100): Reservation {
    const reservation = new Reservation(
      this.nextId++,
      userId,
      1,
      seatId,
      1,
      50_000,
      status,
      expiresAt,
      null,
    );
    this.rows.set(reservation.id, reservation);
    return reservation;
  }

  private set(id: number, status: ReservationStatus, paymentId: number | null = null) {
    const r = this.rows.get(id)!;
    this.rows.set(
      id,
      new Reservation(
        r.id,
        r.userId,
        r.scheduleId,
        r.seatId,
        r.seatNumber,
        r.price,
        status,
        r.expiresAt,
        paymentId,
      ),
    );
  }

  lockUserForHold(userId: string, scheduleId: number): Promise<ReadAt<UserSeats>> {
    const mine = [...this.rows.values()].filter((r) => r.userId === userId);
    const liveHolds = mine.filter((r) => r.isLiveHoldAt(NOW)).length;
    const seatsInSchedule = mine.filter(
      (r) => r.scheduleId === scheduleId && (r.status === 'CONFIRMED' || r.isLiveHoldAt(NOW)),
    ).length;
    return Promise.resolve({ value: { liveHolds, seatsInSchedule }, now: NOW });
  }

  insertHold(hold: NewHold): Promise<Reservation | null> {
    const taken = [...this.rows.values()].some(
      (r) => r.seatId === hold.seatId && (r.status === 'HELD' || r.status === 'CONFIRMED'),
    );
    if (taken) return Promise.resolve(null);
    const reservation = Reservation.held(this.nextId++, hold);
    this.rows.set(reservation.id, reservation);
    return Promise.resolve(reservation);
  }

  findOwned(id: number, userId: string): Promise<ReadAt<Reservation> | null> {
    const r = this.rows.get(id);
    return Promise.resolve(r && r.userId === userId ? { value: r, now: NOW } : null);
  }

  findOwnedForUpdate(id: number, userId: string): Promise<ReadAt<Reservation> | null> {
    return this.findOwned(id, userId);
  }

  findScheduleIdsOwned(userId: string, ids: readonly number[]): Promise<number[]> {
    const owned = ids.map((id) => this.rows.get(id)).filter((r) => r && r.userId === userId);
    return Promise.resolve([...new Set(owned.map((r) => r!.scheduleId))]);
  }

  markCancelled(id: number): Promise<number> {
    this.set(id, 'CANCELLED');
    return Promise.resolve(1);
  }

  findExpiredHolds(limit: number): Promise<ExpiredHold[]> {
    return Promise.resolve(
      [...this.rows.values()]
        .filter((r) => r.holdExpiredAt(NOW))
        .slice(0, limit)
        .map((r) => ({ reservationId: r.id, seatId: r.seatId })),
    );
  }

  markExpired(ids: readonly number[]): Promise<Reservation[]> {
    const changed: Reservation[] = [];
    for (const id of ids) {
      if (!this.rows.get(id)?.holdExpiredAt(NOW)) continue;
      this.set(id, 'EXPIRED');
      changed.push(this.rows.get(id)!);
    }
    return Promise.resolve(changed);
  }

  lockOwned(userId: string, ids: readonly number[]): Promise<ReadAt<Reservation[]>> {
    const value = [...ids]
      .sort((a, b) => a - b)
      .map((id) => this.rows.get(id))
      .filter((r): r is Reservation => r !== undefined && r.userId === userId);
    return Promise.resolve({ value, now: NOW });
  }

  markConfirmed(ids: readonly number[], paymentId: number): Promise<number> {
    const held = ids.filter((id) => this.rows.get(id)?.status === 'HELD');
    for (const id of held) this.set(id, 'CONFIRMED', paymentId);
    return Promise.resolve(held.length);
  }

  markRefunded(ids: readonly number[], paymentId: number): Promise<number> {
    const paid = ids.filter((id) => {
      const r = this.rows.get(id);
      return r?.status === 'CONFIRMED' && r.paymentId === paymentId;
    });
    for (const id of paid) this.set(id, 'REFUNDED', paymentId);
    return Promise.resolve(paid.length);
  }
}

describe('ReservationService', () => {
  let repository: FakeReservationRepository;
  let service: ReservationService;
  const seat = { id: 7, scheduleId: 1, number: 12, price: 77_000 };

  beforeEach(() => {
    repository = new FakeReservationRepository();
    const config = {
      holdSeconds: 300,
      maxHoldsPerUser: 2,
      maxSeatsPerSchedule: 3,
      seatLock: 'redis',
    } as ReservationConfig;
    service = new ReservationService(repository, config);
  });

  it('should start a hold that ends RESERVATION_HOLD_SECONDS after the database clock', async () => {
    await expect(service.startHold('u1', 1)).resolves.toEqual(LATER);
  });

  it('should refuse a hold with HOLD_LIMIT_REACHED when the user has the maximum of live holds', async () => {
    repository.add('u1', 'HELD', LATER, 1);
    repository.add('u1', 'HELD', LATER, 2);
    await expect(codeOf(service.startHold('u1', 1))).resolves.toBe('HOLD_LIMIT_REACHED');
  });

  it('should not count expired, paid or cancelled holds against the limit', async () => {
    repository.add('u1', 'HELD', NOW, 1); // expired this instant
    repository.add('u1', 'CONFIRMED', LATER, 2);
    repository.add('u1', 'CANCELLED', LATER, 3);
    repository.add('u1', 'HELD', LATER, 4);
    await expect(service.startHold('u1', 1)).resolves.toEqual(LATER);
  });

  it('should refuse a hold with PURCHASE_LIMIT_REACHED when paid and live seats in the schedule reach the limit', async () => {
    repository.add('u1', 'CONFIRMED', LATER, 1);
    repository.add('u1', 'CONFIRMED', LATER, 2);
    repository.add('u1', 'HELD', LATER, 3);
    await expect(codeOf(service.startHold('u1', 1))).resolves.toBe('PURCHASE_LIMIT_REACHED');
  });

  it('should insert no hold when the seat already has a live reservation (the second fence)', async () => {
    repository.add('u2', 'HELD', LATER, seat.id);
    await expect(service.createHold('u1', seat, LATER)).resolves.toBeNull();
    expect([...repository.rows.values()].filter((row) => row.seatId === seat.id)).toHaveLength(1);
  });

  it('should record the price and seat number the hold was taken at', async () => {
    const held = await service.createHold('u1', seat, LATER);
    expect(held).toMatchObject({
      userId: 'u1',
      seatId: 7,
      seatNumber: 12,
      price: 77_000,
      status: 'HELD',
    });
  });

  it('should retire an expired reservation once and leave a live one alone', async () => {
    const expired = repository.add('u2', 'HELD', NOW);
    const live = repository.add('u3', 'HELD', LATER, 101);
    await expect(service.retireExpiredHold(expired.id)).resolves.toMatchObject({
      id: expired.id,
      status: 'EXPIRED',
    });
    await expect(service.retireExpiredHold(expired.id)).resolves.toBeNull();
    await expect(service.retireExpiredHold(live.id)).resolves.toBeNull();
    await expect(service.retireExpiredHold(null)).resolves.toBeNull();
  });

  it("should answer RESERVATION_NOT_FOUND for someone else's reservation, to read or to cancel", async () => {
    const theirs = repository.add('u2', 'HELD');
    await expect(codeOf(service.getOwned(theirs.id, 'u1'))).resolves.toBe('RESERVATION_NOT_FOUND');
    await expect(codeOf(service.cancel(theirs.id, 'u1'))).resolves.toBe('RESERVATION_NOT_FOUND');
    expect(repository.rows.get(theirs.id)?.status).toBe('HELD');
  });

  it('should read an expired hold as EXPIRED', async () => {
    const expired = repository.add('u1', 'HELD', NOW);
    await expect(service.getOwned(expired.id, 'u1')).resolves.toMatchObject({ status: 'EXPIRED' });
  });

  it('should mark each expired hold EXPIRED once however often it is asked', async () => {
    repository.add('u1', 'HELD', NOW, 1);
    repository.add('u2', 'HELD', NOW, 2);
    repository.add('u3', 'HELD', LATER, 3);
    const holds = await service.findExpiredHolds(10);
    expect(holds).toHaveLength(2);
    const expired = await service.expire(holds);
    expect(expired.map((r) => r.status)).toEqual(['EXPIRED', 'EXPIRED']);
    await expect(service.expire(holds)).resolves.toEqual([]);
  });

  describe('lockPayable', () => {
    it('should answer RESERVATION_NOT_FOUND when any id is missing or not the payer’s', async () => {
      const mine = repository.add('u1', 'HELD', LATER, 1);
      const theirs = repository.add('u2', 'HELD', LATER, 2);
      await expect(codeOf(service.lockPayable('u1', [mine.id, theirs.id]))).resolves.toBe(
        'RESERVATION_NOT_FOUND',
      );
      await expect(codeOf(service.lockPayable('u1', [mine.id, 999]))).resolves.toBe(
        'RESERVATION_NOT_FOUND',
      );
    });

    it('should answer 409 for a paid one and 410 for an expired one', async () => {
      const paid = repository.add('u1', 'CONFIRMED', LATER, 1);
      const expired = repository.add('u1', 'HELD', NOW, 2);
      await expect(codeOf(service.lockPayable('u1', [paid.id]))).resolves.toBe(
        'RESERVATION_NOT_HELD',
      );
      await expect(codeOf(service.lockPayable('u1', [expired.id]))).resolves.toBe(
        'RESERVATION_EXPIRED',
      );
    });

    it('should confirm live holds with the payment, each exactly once', async () => {
      const a = repository.add('u1', 'HELD', LATER, 1);
      const b = repository.add('u1', 'HELD', LATER, 2);
      const locked = await service.lockPayable('u1', [b.id, a.id]);
      expect(locked.value.map((r) => r.id)).toEqual([a.id, b.id]);
      const confirmed = await service.confirm(locked, 55);
      expect(confirmed.map((r) => [r.status, r.paymentId])).toEqual([
        ['CONFIRMED', 55],
        ['CONFIRMED', 55],
      ]);
      await expect(service.confirm(locked, 56)).rejects.toThrow(/Confirmed 0 of 2/);
    });
  });

  describe('refund', () => {
    async function paidReservations(paymentId: number) {
      const a = repository.add('u1', 'HELD', LATER, 1);
      const b = repository.add('u1', 'HELD', LATER, 2);
      await service.confirm(await service.lockPayable('u1', [a.id, b.id]), paymentId);
      return [a.id, b.id];
    }

    it('should mark a payment’s reservations REFUNDED, each exactly once', async () => {
      const ids = await paidReservations(55);

      const locked = await service.lockPaid('u1', ids);
      const refunded = await service.refund(locked, 55);

      expect(refunded.map((r) => [r.id, r.status, r.paymentId])).toEqual([
        [ids[0], 'REFUNDED', 55],
        [ids[1], 'REFUNDED', 55],
      ]);
      expect([...repository.rows.values()].map((r) => r.status)).toEqual(['REFUNDED', 'REFUNDED']);
      // A second refund over the same rows finds nothing CONFIRMED: a broken invariant, not a 409.
      await expect(service.refund(await service.lockPaid('u1', ids), 55)).rejects.toThrow(
        /only a CONFIRMED reservation/,
      );
    });

    it('should refuse reservations of another payment or missing ones as a broken invariant', async () => {
      const ids = await paidReservations(55);

      await expect(service.refund(await service.lockPaid('u1', ids), 56)).rejects.toThrow(
        /payment 56/,
      );
      await expect(service.lockPaid('u1', [...ids, 999])).rejects.toThrow(/Locked 2 of the 3/);
      await expect(service.lockPaid('u2', ids)).rejects.toThrow(/Locked 0 of the 2/);
      expect([...repository.rows.values()].map((r) => r.status)).toEqual([
        'CONFIRMED',
        'CONFIRMED',
      ]);
    });
  });
});
