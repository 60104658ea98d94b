import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resourceNames } from '../lib/names.js';
import { ENVIRONMENTS } from '../lib/project.js';
import { AMBIENT_AWS_VARIABLES } from '../../test/helpers/moto.js';
import { repositoryCopy } from '../../test/helpers/work-copy.js';

/** Variables that would give the CLI credentials; removed so it runs as on a machine with none. */
const CREDENTIAL_VARIABLES = [...AMBIENT_AWS_VARIABLES, 'CDK_DEFAULT_ACCOUNT'];

describe('the CDK app run by the CLI without AWS credentials', () => {
  it('`npx cdk diff` says how to sign in', () => {
    const copy = repositoryCopy();
    const home = mkdtempSync(join(tmpdir(), 'no-credentials-'));
    try {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        HOME: home,
        AWS_EC2_METADATA_DISABLED: 'true',
        NODE_OPTIONS: '',
      };
      for (const name of CREDENTIAL_VARIABLES) delete env[name];
      const result = spawnSync('npx', ['cdk', 'diff', resourceNames(ENVIRONMENTS[0]!).networkStack, '--no-notices'], {
        cwd: copy.dir,
        env,
        encoding: 'utf8',
        timeout: 120_000,
      });
      const output = `${result.stdout}${result.stderr}`;
      expect(output).toContain('no AWS credentials found');
      expect(output).toContain('aws sso login --profile <name>');
    } finally {
      copy.remove();
      rmSync(home, { recursive: true, force: true });
    }
  }, 150_000);
});
