import type { RedisClient } from './redis-client';
import { currentDeadline, DeadlineExceededError, withinDeadline } from '../deadline/deadline';

type Command = (...args: unknown[]) => unknown;

/**
 * Bounds every command of this client by what is left of the caller's deadline (ADR 0013).
 * ioredis has one commandTimeout per client, which already bounds a call made early in a
 * request; a call made late gets a shorter race of its own, so it is only paid for then. Read at
 * the call, in the caller's async context: with auto-pipelining the write happens on a later
 * tick, in whatever context scheduled the batch.
 *
 * Only this client's own methods are wrapped (scripts defined later too); its duplicates
 * (subscribers) are not on any request's path.
 */
export function boundByDeadline(client: RedisClient, commandTimeoutMs: number): void {
  const target = client as unknown as Record<string, Command>;
  const wrap = (name: string) => {
    const command = target[name];
    if (typeof command !== 'function') return;
    target[name] = function (this: unknown, ...args: unknown[]) {
      const deadline = currentDeadline();
      if (!deadline) return command.apply(this, args);
      const left = deadline.remainingMs();
      // Out of time: not even sent, so it cannot take effect after the 503.
      if (left <= 0) return Promise.reject(new DeadlineExceededError());
      const result = command.apply(this, args);
      return left >= commandTimeoutMs || !isPromise(result)
        ? result
        : withinDeadline(result, deadline);
    };
  };
  for (const name of client.getBuiltinCommands()) {
    // These build a batch synchronously (the caller chains on it); its exec() is the call.
    if (name === 'multi' || name === 'pipeline') continue;
    wrap(name);
    wrap(`${name}Buffer`);
  }
  const defineCommand = client.defineCommand.bind(client);
  client.defineCommand = (name, definition) => {
    defineCommand(name, definition);
    wrap(name);
    wrap(`${name}Buffer`);
  };
}

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
