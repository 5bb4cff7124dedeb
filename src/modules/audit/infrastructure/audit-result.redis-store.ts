import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import type { RedisClient } from '../../../common/redis/redis-client';
import { AUDIT_KEYS, AUDIT_RESULT_TTL_SECONDS } from '../audit.constants';
import { AuditReport, PublishedAudit } from '../domain/audit-report';
import { AuditResultStore } from '../domain/audit-result.store';
import { AUDIT_RULES, AuditRule, RuleFinding } from '../domain/audit-rule';

/**
 * The period is numbered by Redis TIME, the one clock every instance shares, and claimed with a
 * compare-and-set in one script: instances ticking at the same moment get exactly one winner,
 * and the key expires after two periods so a changed interval cannot block claims for long.
 */
const CLAIM = `
local now = redis.call('TIME')
local interval = tonumber(ARGV[1])
local period = math.floor(tonumber(now[1]) / interval)
local last = tonumber(redis.call('GET', KEYS[1]) or '-1')
if last >= period then return 0 end
redis.call('SET', KEYS[1], period, 'EX', interval * 2)
return 1
`;

interface StoredAudit {
  checkedAt: string;
  durationMs: number;
  findings: RuleFinding[];
  unchecked: AuditRule[];
}

type ClaimScript = (key: string, intervalSeconds: number) => Promise<number>;

@Injectable()
export class AuditResultRedisStore extends AuditResultStore {
  constructor(@Inject(Redis) private readonly redis: RedisClient) {
    super();
    if (!('auditClaimPeriod' in redis)) {
      redis.defineCommand('auditClaimPeriod', { numberOfKeys: 1, lua: CLAIM });
    }
  }

  async claimPeriod(intervalSeconds: number): Promise<boolean> {
    const claim = (this.redis as unknown as { auditClaimPeriod: ClaimScript }).auditClaimPeriod;
    return (await claim.call(this.redis, AUDIT_KEYS.claim, intervalSeconds)) === 1;
  }

  async publish(report: AuditReport): Promise<void> {
    const stored: StoredAudit = {
      checkedAt: report.checkedAt.toISOString(),
      durationMs: report.durationMs,
      findings: [...report.findings],
      unchecked: [...report.unchecked],
    };
    const write = this.redis
      .multi()
      .set(AUDIT_KEYS.latest, JSON.stringify(stored), 'EX', AUDIT_RESULT_TTL_SECONDS);
    if (report.complete) {
      write.set(
        AUDIT_KEYS.lastCompleteAt,
        String(report.checkedAt.getTime()),
        'EX',
        AUDIT_RESULT_TTL_SECONDS,
      );
    }
    await write.exec();
  }

  async latest(): Promise<PublishedAudit | null> {
    const [latest, lastCompleteAt] = await this.redis.mget(
      AUDIT_KEYS.latest,
      AUDIT_KEYS.lastCompleteAt,
    );
    if (!latest) return null;
    return toPublished(JSON.parse(latest) as StoredAudit, lastCompleteAt);
  }
}

function toPublished(stored: StoredAudit, lastCompleteAt: string | null): PublishedAudit {
  // A result written by another version may name rules this one does not know: they are dropped
  // rather than exported under a name no alert or dashboard expects.
  const known = new Set<string>(AUDIT_RULES);
  return {
    checkedAt: new Date(stored.checkedAt),
    durationMs: stored.durationMs,
    findings: stored.findings.filter((finding) => known.has(finding.rule)),
    unchecked: stored.unchecked.filter((rule) => known.has(rule)),
    lastCompleteAt: lastCompleteAt ? new Date(Number(lastCompleteAt)) : null,
  };
}
