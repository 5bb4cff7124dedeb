import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_SPECS } from './error-codes';

describe('docs/errors.md', () => {
  const page = readFileSync(join(__dirname, '../../../docs/errors.md'), 'utf8');

  it('should list every error code with its status', () => {
    for (const [code, spec] of Object.entries(ERROR_SPECS)) {
      // Prettier pads table cells, so match with flexible spacing.
      expect(page).toMatch(new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*${spec.status}\\s*\\|`));
    }
  });
});
