import { Checkout, Payment, PaymentItem } from './payment';
import { NewPayment, PaymentRepository } from './payment.repository';
import { PAYMENT_LIST_LIMIT, PaymentService } from './payment.service';

/** In-memory PaymentRepository with the unique reservation-per-receipt rule of the real table. */
class FakePaymentRepository extends PaymentRepository {
  readonly payments: (NewPayment & { id: number })[] = [];
  readonly items: (PaymentItem & { paymentId: number })[] = [];
  lastLimit?: number;

  insertCompleted(payment: NewPayment): Promise<number> {
    const id = this.payments.length + 1;
    this.payments.push({ ...payment, id });
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
        .map((payment) => ({
          id: payment.id,
          userId: payment.userId,
          amount: payment.amount,
          status: 'COMPLETED' as const,
          paidAt: payment.paidAt,
          items: this.items
            .filter((item) => item.paymentId === payment.id)
            .map(({ paymentId: _paymentId, ...item }) => item),
        })),
    );
  }
}

const USER = '8a0c2a4e-0d7c-4e36-9d7e-2f0f3c1b9a01';
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
    service = new PaymentService(repository);
  });

  it('should store the payment with the checkout total and the payment clock when it opens', async () => {
    const id = await service.open(checkoutOf(1, 2), PAID_AT);

    expect(repository.payments).toEqual([{ id, userId: USER, amount: 30_000, paidAt: PAID_AT }]);
  });

  it('should write one receipt line per reservation and return the completed payment', async () => {
    const checkout = checkoutOf(2, 1);
    const id = await service.open(checkout, PAID_AT);

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
    await service.recordReceipt(await service.open(first, PAID_AT), first, seatsOf(1), PAID_AT);

    const again = checkoutOf(1);
    await expect(
      service.recordReceipt(await service.open(again, PAID_AT), again, seatsOf(1), PAID_AT),
    ).rejects.toThrow('duplicate');
  });

  it('should list the user’s payments newest first, bounded, when asked', async () => {
    for (const ids of [[1], [2, 3]]) {
      const checkout = checkoutOf(...ids);
      await service.recordReceipt(
        await service.open(checkout, PAID_AT),
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
});
