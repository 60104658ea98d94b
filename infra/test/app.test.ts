import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resourceNames } from '../lib/names.js';
import { ENVIRONMENTS } from '../lib/project.js';
import { repositoryCopy } from '../../test/helpers/work-copy.js';

/** Variables that would give the CLI credentials; removed so it runs as on a machine with none. */
const CREDENTIAL_VARIABLES = [
  'AWS_PROFILE',
  'AWS_DEFAULT_PROFILE',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_ROLE_ARN',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'CDK_DEFAULT_ACCOUNT',
];

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
