import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PROJECT } from '../infra/lib/project.js';
import { CODEOWNERS_FILE, codeOwnersFile } from '../scripts/lib/code-owners.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

describe('.github/CODEOWNERS', () => {
  it('is what npm run configure writes from the configuration (re-run it after editing codeOwners)', () => {
    expect(readFileSync(`${ROOT}${CODEOWNERS_FILE}`, 'utf8')).toBe(codeOwnersFile(PROJECT));
  });

  it('gives the workflows, the actions, the infrastructure and the configuration to the code owners', () => {
    const rules = codeOwnersFile(PROJECT)
      .split('\n')
      .filter((line) => line && !line.startsWith('#'))
      .map((line) => line.split(/\s+/));
    for (const path of ['/.github/', '/actions/', '/infra/', '/gitops.config.json'])
      expect(rules).toContainEqual([path, ...PROJECT.github.codeOwners]);
  });

  it('changes with the configuration', () => {
    const other = codeOwnersFile({ github: { ...PROJECT.github, codeOwners: ['@someone-else'] } });
    expect(other).not.toBe(codeOwnersFile(PROJECT));
    expect(other).toMatch(/^\/infra\/ +@someone-else$/m);
  });
});
