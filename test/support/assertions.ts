import { DomainError } from '../../src/common/errors/domain-error';

/**
 * What a failing call failed with, as one string to assert on: a DomainError's stable code, the
 * class name of any other error ("RangeError", "Error"), or "resolved" when it did not fail. A
 * wrong outcome then shows up in the assertion's diff instead of as an unrelated throw.
 */
export function codeOf(run: Promise<unknown>): Promise<string>;
export function codeOf(run: () => unknown): string;
export function codeOf(run: Promise<unknown> | (() => unknown)): Promise<string> | string {
  if (typeof run !== 'function') return run.then(() => 'resolved', outcomeOf);
  try {
    run();
    return 'resolved';
  } catch (error) {
    return outcomeOf(error);
  }
}

function outcomeOf(error: unknown): string {
  if (error instanceof DomainError) return error.code;
  return error instanceof Error ? error.name : typeof error;
}

/** An HTTP reply (supertest's or `call()`'s) carrying problem+json. */
export interface ProblemReply {
  status: number;
  body?: unknown;
}

/** Asserts the status and the problem+json `code` together, so a failure shows both. */
export function expectProblem(reply: ProblemReply, status: number, code: string): void {
  expect({ status: reply.status, code: problemCode(reply) }).toEqual({ status, code });
}

/** The problem+json `code` of a reply, or undefined for a body without one. */
export function problemCode(reply: ProblemReply): string | undefined {
  return (reply.body as { code?: string } | undefined)?.code;
}
