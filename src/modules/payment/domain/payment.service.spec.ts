import { PaymentConfig } from '../../../common/config/configuration';
import { Checkout, Payment, PaymentItem, PaymentStatus } from './payment';
import { LockedPayment, NewPayment, PaymentRepository } from './payment.repository';
import { PAYMENT_LIST_LIMIT, PaymentService } from './payment.service';
import { codeOf } from '../../../../test/support/assertions';

type StoredPayment = NewPayment & { id: number; status: PaymentStatus; refundedAt: Date | null };

/**
 * In-memory PaymentRepository with the unique reservation-per-receipt rule of the real table and
 * the conditional COMPLETED → REFUNDED update; `now` stands in for the database clock.
 */
class FakePaymentRepository extends PaymentRepository {
  readonly payments: StoredPayment[] = [];
  readonly items: (PaymentItem & { paymentId: number })[] = [];
  lastLimit?: number;
  now = new Date('2030-04-30T10:00:00.000Z');

  insertCompleted(payment: NewPayment): Promise<number> {
    const id = this.payments.length + 1;
    this.payments.push({ ...payment, id, status: 'COMPLETED', refundedAt: null });
    return Promise.resolve(id);
  }

  insertItems(paymentId: number, items: readonly PaymentItem[]): Promise<void> {
    for (const item of items) {
      if (this.items.some((existing) => existing.reservationId === item.reservationId)) {
        return Promise.reject(new Error('duplicate reservation on a receipt'));
      }
    }
    this.items.push(...items.map((item) => ({ ...item, paymentId })));
    return Promise.resolve();
  }

  findByUserNewestFirst(userId: string, limit: number): Promise<Payment[]> {
    this.lastLimit = limit;
    return Promise.resolve(
      this.payments
        .filter((payment) => payment.userId === userId)
        .reverse()
        .map((payment) => this.toPayment(payment)),
    );
  }

  findOwned(id: number, userId: string): Promise<Payment | null> {
    const payment = this.payments.find((p) => p.id === id && p.userId === userId);
    return Promise.resolve(payment ? this.toPayment(payment) : null);
  }

  async lockOwned(id: number, userId: string): Promise<LockedPayment | null> {
    const payment = await this.findOwned(id, userId);
    return payment ? { payment, now: this.now } : null;
  }

  markRefunded(id: number, refundedAt: Date): Promise<number> {
    const payment = this.payments.find((p) => p.id === id && p.status === 'COMPLETED');
    if (!payment) return Promise.resolve(0);
    payment.status = 'REFUNDED';
    payment.refundedAt = refundedAt;
    return Promise.resolve(1);
  }

  private toPayment(payment: StoredPayment): Payment {
    return {
      id: payment.id,
      userId: payment.userId,
      amount: payment.amount,
      status: payment.status,
      paidAt: payment.paidAt,
      refundedAt: payment.refundedAt,
      items: this.items
        .filter((item) => item.paymentId === payment.id)
        .map(({ paymentId: _paymentId, ...item }) => item),
    };
  }
}

const USER = '8a0c2a4e-0d7c-4e36-9d7e-2f0f3c1b9a01';
const OTHER = '1b7d9f3a-6c42-4f0e-8a55-3e2d1c0b9f02';
const PAID_AT = new Date('2030-04-01T12:00:00.000Z');
const STARTS_AT = new Date('2030-05-01T10:00:00.000Z');

function checkoutOf(...ids: number[]): Checkout {
  return Checkout.of(
    USER,
    ids.map((id) => ({
      id,
      userId: USER,
      scheduleId: 3,
      seatId: 100 + id,
      seatNumber: id,
      price: 10_000 * id,
    })),
  );
}

const seatsOf = (...ids: number[]) =>
  ids.map((id) => ({ seatId: 100 + id, concertId: 1, concertTitle: 'Live', startsAt: STARTS_AT }));

describe('PaymentService', () => {
  let repository: FakePaymentRepository;
  let service: PaymentService;

  beforeEach(() => {
    repository = new FakePaymentRepository();
    const config: PaymentConfig = { refundCutoffHours: 24 };
    service = new PaymentService(repository, config);
  });

  async function paid(...ids: number[]): Promise<number> {
    const checkout = checkoutOf(...ids);
    const id = await service.record(checkout, PAID_AT);
    await service.recordReceipt(id, checkout, seatsOf(...ids), PAID_AT);
    return id;
  }

  it('should record a COMPLETED payment with the checkout total and the payment clock', async () => {
    const id = await service.record(checkoutOf(1, 2), PAID_AT);

    expect(repository.payments).toEqual([
      { id, userId: USER, amount: 30_000, paidAt: PAID_AT, status: 'COMPLETED', refundedAt: null },
    ]);
  });

  it('should write one receipt line per reservation and return the completed payment', async () => {
    const checkout = checkoutOf(2, 1);
    const id = await service.record(checkout, PAID_AT);

    const payment = await service.recordReceipt(id, checkout, seatsOf(1, 2), PAID_AT);

    expect(payment).toMatchObject({ id, userId: USER, amount: 30_000, status: 'COMPLETED' });
    expect(payment.items.map((item) => [item.reservationId, item.price])).toEqual([
      [1, 10_000],
      [2, 20_000],
    ]);
    expect(repository.items.map((item) => item.paymentId)).toEqual([id, id]);
  });

  it('should fail the receipt when a reservation is already on another receipt', async () => {
    const first = checkoutOf(1);
    await service.recordReceipt(await service.record(first, PAID_AT), first, seatsOf(1), PAID_AT);

    const again = checkoutOf(1);
    await expect(
      service.recordReceipt(await service.record(again, PAID_AT), again, seatsOf(1), PAID_AT),
    ).rejects.toThrow('duplicate');
  });

  it('should list the user’s payments newest first, bounded, when asked', async () => {
    for (const ids of [[1], [2, 3]]) {
      const checkout = checkoutOf(...ids);
      await service.recordReceipt(
        await service.record(checkout, PAID_AT),
        checkout,
        seatsOf(...ids),
        PAID_AT,
      );
    }

    const listed = await service.listOfUser(USER);

    expect(listed.map((payment) => [payment.id, payment.amount, payment.items.length])).toEqual([
      [2, 50_000, 2],
      [1, 10_000, 1],
    ]);
    expect(repository.lastLimit).toBe(PAYMENT_LIST_LIMIT);
  });

  it("should answer PAYMENT_NOT_FOUND for someone else's payment exactly as for a missing one", async () => {
    const id = await paid(1);

    await expect(service.getOwned(id, USER)).resolves.toMatchObject({ id, status: 'COMPLETED' });
    await expect(codeOf(service.getOwned(id, OTHER))).resolves.toBe('PAYMENT_NOT_FOUND');
    await expect(codeOf(service.getOwned(999, USER))).resolves.toBe('PAYMENT_NOT_FOUND');
    await expect(codeOf(service.refund(id, OTHER, [STARTS_AT]))).resolves.toBe('PAYMENT_NOT_FOUND');
    expect(repository.payments[0].status).toBe('COMPLETED');
  });

  it('should refund at the database clock of the locked read, once', async () => {
    const id = await paid(1, 2);

    const refunded = await service.refund(id, USER, [STARTS_AT]);

    expect(refunded).toMatchObject({
      id,
      amount: 30_000,
      status: 'REFUNDED',
      refundedAt: repository.now,
    });
    expect(repository.payments[0]).toMatchObject({
      status: 'REFUNDED',
      refundedAt: repository.now,
    });
    await expect(codeOf(service.refund(id, USER, [STARTS_AT]))).resolves.toBe(
      'PAYMENT_ALREADY_REFUNDED',
    );
  });

  it('should refuse with REFUND_WINDOW_CLOSED and change nothing inside the cutoff', async () => {
    const id = await paid(1);
    const showSoon = new Date(repository.now.getTime() + 23 * 3_600_000);

    await expect(codeOf(service.refund(id, USER, [STARTS_AT, showSoon]))).resolves.toBe(
      'REFUND_WINDOW_CLOSED',
    );
    expect(repository.payments[0]).toMatchObject({ status: 'COMPLETED', refundedAt: null });
  });
});
