import type { FastifyInstance } from 'fastify';
import { DomainError } from '../errors/domain-error';
import { ErrorCode } from '../errors/error-codes';

/** Deepest JSON nesting a body may have (the contract's bound). */
export const MAX_JSON_DEPTH = 32;

/**
 * How deep `text` nests, counted without recursion and without parsing, so an attacker's 2,400
 * levels of `[[[[…` cost one linear scan instead of a stack overflow in a validator later.
 * Brackets inside strings do not count. Stops early once past `limit`.
 */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x5c /* \ */) i++;
      else if (char === 0x22 /* " */) inString = false;
    } else if (char === 0x22) {
      inString = true;
    } else if (char === 0x5b /* [ */ || char === 0x7b /* { */) {
      if (++depth > limit) return true;
    } else if (char === 0x5d /* ] */ || char === 0x7d /* } */) {
      depth--;
    }
  }
  return false;
}

/**
 * Body parsing and response headers every route shares:
 * - JSON only: Fastify's built-in text/plain parser is removed, so a text body gets 415 like any
 *   other non-JSON one instead of reaching validation as a string;
 * - the JSON parser refuses bodies nested deeper than MAX_JSON_DEPTH (400 MALFORMED_REQUEST)
 *   before parsing, then parses with Fastify's own parser (prototype-poisoning checks kept);
 * - `X-Content-Type-Options: nosniff` everywhere, and `Cache-Control: no-store` unless a route
 *   set its own: answers carry personal data (balances, payments) that no shared cache may keep.
 */
export function installHttpHygiene(fastify: FastifyInstance): void {
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser(['application/json', 'text/plain']);
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
      done(
        new DomainError(
          ErrorCode.MALFORMED_REQUEST,
          `The JSON body is nested deeper than ${MAX_JSON_DEPTH} levels.`,
        ),
        undefined,
      );
      return;
    }
    // Fastify types the default parser as possibly async; in callback style it returns nothing.
    void parseJson(request, text, done);
  });
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    void reply.header('X-Content-Type-Options', 'nosniff');
    if (!reply.hasHeader('Cache-Control')) void reply.header('Cache-Control', 'no-store');
    done(null, payload);
  });
}
