import { ApiProperty } from '@nestjs/swagger';
import { AuditReport } from '../../domain/audit-report';
import {
  AUDIT_EXAMPLES_PER_RULE,
  AUDIT_RULE_DESCRIPTIONS,
  AUDIT_RULES,
  AuditRule,
  OffenderId,
  RuleFinding,
} from '../../domain/audit-rule';

const RULES_TABLE = AUDIT_RULES.map((rule) => `\`${rule}\`: ${AUDIT_RULE_DESCRIPTIONS[rule]}`).join(
  '<br>',
);

export class ViolationResponse {
  @ApiProperty({
    enum: AUDIT_RULES,
    example: 'sold_seat_without_one_paid_reservation',
    description: `Stable rule name.<br>${RULES_TABLE}`,
  })
  rule!: AuditRule;

  @ApiProperty({ example: 2, minimum: 1, description: 'How many rows break the rule' })
  count!: number;

  @ApiProperty({
    type: 'array',
    items: { oneOf: [{ type: 'integer' }, { type: 'string', format: 'uuid' }] },
    maxItems: AUDIT_EXAMPLES_PER_RULE,
    example: [1042, 2077],
    description: `Up to ${AUDIT_EXAMPLES_PER_RULE} offending ids, lowest first: seat ids, payment ids, or user ids for wallets`,
  })
  examples!: OffenderId[];

  static from(finding: RuleFinding): ViolationResponse {
    return { rule: finding.rule, count: finding.count, examples: finding.examples };
  }
}

export class AuditResponse {
  @ApiProperty({
    type: String,
    format: 'date-time',
    description: 'The database clock at the snapshot every rule was checked on',
  })
  checkedAt!: Date;

  @ApiProperty({ example: true, description: 'True iff there are no violations' })
  ok!: boolean;

  @ApiProperty({ type: [ViolationResponse], description: 'Only the rules that are broken' })
  violations!: ViolationResponse[];

  static from(report: AuditReport): AuditResponse {
    return {
      checkedAt: report.checkedAt,
      ok: report.ok,
      violations: report.violations.map((finding) => ViolationResponse.from(finding)),
    };
  }
}
