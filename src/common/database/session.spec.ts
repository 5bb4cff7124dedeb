import { lockWaitSecondsFor } from '../config/configuration';
import { sessionLimitsStatement } from './session';
import { transactionShare } from './transaction';

describe('session limits', () => {
  it('should bound every statement on MariaDB (seconds) and SELECTs on MySQL (ms)', () => {
    const limits = { statementTimeLimitMs: 5_000, lockWaitSeconds: 3 };
    expect(sessionLimitsStatement('mariadb', limits)).toBe(
      'SET SESSION innodb_lock_wait_timeout = 3, max_statement_time = 5.000',
    );
    expect(sessionLimitsStatement('mysql', limits)).toBe(
      'SET SESSION innodb_lock_wait_timeout = 3, max_execution_time = 5000',
    );
  });

  it('should wait for a row lock a third of the deadline, 1 to 5 s', () => {
    expect(lockWaitSecondsFor(10_000)).toBe(3);
    expect(lockWaitSecondsFor(2_000)).toBe(1);
    expect(lockWaitSecondsFor(120_000)).toBe(5);
  });

  it('should keep at least one connection of a pool for plain reads', () => {
    expect(transactionShare(20)).toBe(16);
    expect(transactionShare(10)).toBe(8);
    expect(transactionShare(5)).toBe(4);
    // Too small to split: a one-connection pool must still run transactions.
    expect(transactionShare(3)).toBe(3);
    expect(transactionShare(1)).toBe(1);
  });
});
