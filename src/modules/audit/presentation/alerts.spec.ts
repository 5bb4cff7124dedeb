import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

interface RuleFile {
  groups: { name: string; rules: { alert: string; expr: string; for: string }[] }[];
}

const deploy = join(__dirname, '../../../../deploy/prometheus');

/**
 * promtool is not at hand in CI; this at least proves the rule file parses, has the shape
 * Prometheus loads, is wired into its config, and names the metrics AuditMetrics exports.
 */
describe('deploy/prometheus/alerts.yml', () => {
  const file = parse(readFileSync(join(deploy, 'alerts.yml'), 'utf8')) as RuleFile;
  const rules = file.groups.flatMap((group) => group.rules);
  const byName = new Map(rules.map((rule) => [rule.alert, rule]));

  it('should be a valid rule group file with an expr and a duration on every alert', () => {
    expect(file.groups.length).toBeGreaterThan(0);
    for (const rule of rules) {
      expect(rule.alert).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
      expect(typeof rule.expr).toBe('string');
      expect(rule.for).toMatch(/^\d+[smh]$/);
    }
  });

  it('should alert on any violation held for 2 minutes', () => {
    expect(byName.get('BookingInvariantViolated')).toMatchObject({
      expr: expect.stringMatching(/booking_invariant_violations\)? > 0/),
      for: '2m',
    });
  });

  it('should alert when the audit has not completed recently', () => {
    expect(byName.get('BookingAuditStale')?.expr).toContain(
      'booking_audit_last_success_timestamp_seconds',
    );
  });

  it('should alert when booking events wait in the outbox, only where a relay runs', () => {
    expect(byName.get('BookingEventsDelayed')?.expr).toMatch(
      /outbox_oldest_unsent_age_seconds.*outbox_relay_connected/,
    );
  });

  it('should alert when an instance cannot reach a majority of the seat-lock masters', () => {
    expect(byName.get('SeatLockQuorumLost')?.expr).toMatch(
      /seat_lock_nodes_ready - seat_lock_quorum\) < 0[\s\S]*seat_lock_failed_open_total/,
    );
  });

  it('should be loaded by prometheus.yml', () => {
    const config = parse(readFileSync(join(deploy, 'prometheus.yml'), 'utf8')) as {
      rule_files?: string[];
    };
    expect(config.rule_files).toContain('/etc/prometheus/alerts.yml');
  });
});
