import { TransactionHost } from '../database/transaction';
import { Injectable } from '@nestjs/common';
import { DomainError } from '../errors/domain-error';
import { ErrorCode } from '../errors/error-codes';
import { fingerprint } from './fingerprint';
import { idempotencyMarkerKey } from './idempotency.constants';
import { IdempotencyMarker } from './idempotency.marker';
import { IdempotencyRecord, IdempotencyStore } from './idempotency.store';

/** One idempotent request: whose it is, which endpoint, the client's key and the body. */
export interface IdempotencyRequest {
  /** The acting user (from the path, a queue token or a retired token). Keys are per user. */
  userId: string;
  /** A short, fixed name of the operation, e.g. 'cash.charge' or 'payment' (ASCII, <= 32). */
  scope: string;
  /** The Idempotency-Key header, already checked by readIdempotencyKey; undefined = no key. */
  key: string | undefined;
  /** The request body as parsed JSON (or the validated DTO, which equals it). Fingerprinted. */
  body: unknown;
}

/** What the endpoint answers: the first response, or a replay of it. */
export class IdempotentResult<T> {
  constructor(
    readonly status: number,
    readonly body: T,
    readonly replayed: boolean,
  ) {}
}

/**
 * Idempotency-Key for write endpoints. See docs/idempotency.md for the design; in short:
 * a completed key is a row in `idempotency_keys` written in the same transaction as the effect,
 * and a key being processed right now is a short Redis marker, so a concurrent duplicate gets a
 * fast 409 while the unique key in MySQL stays the guarantee.
 */
@Injectable()
export class IdempotencyService {
  constructor(
    private readonly store: IdempotencyStore,
    private readonly marker: IdempotencyMarker,
    private readonly txHost: TransactionHost,
  ) {}

  /**
   * The stored response for this key, replayed, or null when the key is unknown (or no key was
   * sent). Throws 422 IDEMPOTENCY_KEY_REUSED when the key was used with a different body. Needs no
   * transaction; meant for checks that must run before other guards (e.g. an expired queue token).
   */
  async findReplay<T>(request: IdempotencyRequest): Promise<IdempotentResult<T> | null> {
    if (request.key === undefined) return null;
    const record = await this.store.find(request.userId, request.scope, request.key);
    return record ? replay<T>(record, fingerprint(request.body)) : null;
  }

  /**
   * Runs `work` at most once per key. Without a key it simply runs it. With one:
   * a stored response is replayed; a key being processed elsewhere gives 409
   * IDEMPOTENCY_KEY_IN_PROGRESS; otherwise a transaction is opened, the key is claimed in it,
   * `work` runs inside it (transactions opened inside it join), and its result is stored with
   * `successStatus` before the one commit. If `work` throws, everything rolls back and nothing
   * is remembered. `work` must return the exact JSON body of the response.
   *
   * Must be called outside any transaction: it owns the transaction boundary.
   */
  async execute<T>(
    request: IdempotencyRequest,
    successStatus: number,
    work: () => Promise<T>,
  ): Promise<IdempotentResult<T>> {
    const { userId, scope, key } = request;
    if (key === undefined) return new IdempotentResult(successStatus, await work(), false);
    if (this.txHost.isTransactionActive()) {
      throw new Error('IdempotencyService.execute opens its own transaction; call it outside one');
    }

    const requestFingerprint = fingerprint(request.body);
    const earlier = await this.store.find(userId, scope, key);
    if (earlier) return replay<T>(earlier, requestFingerprint);

    const markerKey = idempotencyMarkerKey(userId, scope, key);
    const claim = await this.marker.acquire(markerKey);
    try {
      if (claim.state === 'taken') {
        // Either still running elsewhere, or it finished between our read and the marker check.
        const finished = await this.store.find(userId, scope, key);
        if (finished) return replay<T>(finished, requestFingerprint);
        throw new DomainError(
          ErrorCode.IDEMPOTENCY_KEY_IN_PROGRESS,
          'A request with this Idempotency-Key is still being processed; retry shortly.',
          undefined,
          1,
        );
      }

      const fresh = await this.txHost.withTransaction(async () => {
        const claimId = await this.store.claim(userId, scope, key, requestFingerprint);
        // Someone committed this key meanwhile (the Redis marker was lost or had expired).
        if (claimId === null) return null;
        const body = await work();
        await this.store.complete(claimId, successStatus, JSON.stringify(body ?? null));
        return { body };
      });
      if (fresh) return new IdempotentResult(successStatus, fresh.body, false);

      const winner = await this.store.find(userId, scope, key);
      if (winner) return replay<T>(winner, requestFingerprint);
      throw new DomainError(
        ErrorCode.IDEMPOTENCY_KEY_IN_PROGRESS,
        'A request with this Idempotency-Key is still being processed; retry shortly.',
        undefined,
        1,
      );
    } finally {
      await this.marker.release(markerKey, claim);
    }
  }

  /** Deletes expired keys, at most `limit`; the purge job calls it in a loop. */
  purgeExpired(limit: number): Promise<number> {
    return this.store.purgeExpired(limit);
  }
}

function replay<T>(record: IdempotencyRecord, requestFingerprint: string): IdempotentResult<T> {
  if (record.fingerprint !== requestFingerprint) {
    throw new DomainError(
      ErrorCode.IDEMPOTENCY_KEY_REUSED,
      'This Idempotency-Key was already used with a different request body.',
    );
  }
  return new IdempotentResult(record.responseStatus, JSON.parse(record.responseBody) as T, true);
}
