import { withTimeLimit } from './invariant-audit.sql-repository';

describe('withTimeLimit', () => {
  const sql = 'SELECT id FROM seats WHERE status = ?';

  it('should wrap the statement in SET STATEMENT max_statement_time (seconds) on MariaDB', () => {
    expect(withTimeLimit('mariadb', sql, 2500)).toBe(
      'SET STATEMENT max_statement_time = 2.500 FOR SELECT id FROM seats WHERE status = ?',
    );
  });

  it('should add the MAX_EXECUTION_TIME hint (ms) to the outer SELECT on MySQL', () => {
    expect(withTimeLimit('mysql', `  ${sql}`, 2500)).toBe(
      'SELECT /*+ MAX_EXECUTION_TIME(2500) */ id FROM seats WHERE status = ?',
    );
  });

  it('should never send 0, which both servers read as no limit at all', () => {
    expect(withTimeLimit('mariadb', sql, 0.2)).toContain('max_statement_time = 0.001 FOR');
    expect(withTimeLimit('mysql', sql, 0)).toContain('MAX_EXECUTION_TIME(1)');
  });
});
