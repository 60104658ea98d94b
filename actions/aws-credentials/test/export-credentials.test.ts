import {
  EXPORTED_VARIABLES,
  STATE_EXPORTED,
  clearCredentials,
  exportCredentials,
  type Exporter,
} from '../src/export-credentials.js';
import { resourceNames } from '../../../infra/lib/names.js';
import { ENVIRONMENTS } from '../../../infra/lib/project.js';

/** The first configured environment's account and region, and its deploy role's session. */
const ENV = ENVIRONMENTS[0]!;
const ACCOUNT = ENV.account;
const REGION = ENV.region;

class RecordingRunner implements Exporter {
  readonly calls: string[] = [];
  setSecret(value: string): void {
    this.calls.push(`mask ${value}`);
  }
  exportVariable(name: string, value: string): void {
    this.calls.push(`env ${name}=${value}`);
  }
  setOutput(name: string, value: string): void {
    this.calls.push(`output ${name}=${value}`);
  }
  saveState(name: string, value: string): void {
    this.calls.push(`state ${name}=${value}`);
  }
}

const ROLE = {
  credentials: { accessKeyId: 'AKID', secretAccessKey: 'SECRET', sessionToken: 'TOKEN' },
  expiration: new Date('2030-01-01T00:00:00Z'),
  accountId: ACCOUNT,
  assumedRoleArn: `arn:aws:sts::${ACCOUNT}:assumed-role/${resourceNames(ENV).deployRole}/s`,
};

describe('exportCredentials', () => {
  it('masks before exporting, then sets the outputs and the state for post', () => {
    const runner = new RecordingRunner();
    exportCredentials(ROLE, REGION, false, runner);
    expect(runner.calls).toEqual([
      'mask AKID',
      'mask SECRET',
      'mask TOKEN',
      'env AWS_ACCESS_KEY_ID=AKID',
      'env AWS_SECRET_ACCESS_KEY=SECRET',
      'env AWS_SESSION_TOKEN=TOKEN',
      `env AWS_REGION=${REGION}`,
      `env AWS_DEFAULT_REGION=${REGION}`,
      `output aws-account-id=${ACCOUNT}`,
      `output assumed-role-arn=${ROLE.assumedRoleArn}`,
      'output expiration=2030-01-01T00:00:00.000Z',
      `state ${STATE_EXPORTED}=${EXPORTED_VARIABLES.join(',')}`,
    ]);
  });

  it('masks the account id when asked', () => {
    const runner = new RecordingRunner();
    exportCredentials(ROLE, REGION, true, runner);
    expect(runner.calls).toContain(`mask ${ACCOUNT}`);
    // Masked before it is first written as an output.
    expect(runner.calls.indexOf(`mask ${ACCOUNT}`)).toBeLessThan(
      runner.calls.indexOf(`output aws-account-id=${ACCOUNT}`),
    );
  });
});

describe('clearCredentials', () => {
  it('empties exactly the exported variables and ignores anything else in the state', () => {
    const runner = new RecordingRunner();
    expect(clearCredentials('AWS_ACCESS_KEY_ID,PATH,AWS_SESSION_TOKEN', runner)).toEqual([
      'AWS_ACCESS_KEY_ID',
      'AWS_SESSION_TOKEN',
    ]);
    expect(runner.calls).toEqual(['env AWS_ACCESS_KEY_ID=', 'env AWS_SESSION_TOKEN=']);
  });

  it('does nothing without state (main failed before exporting)', () => {
    const runner = new RecordingRunner();
    expect(clearCredentials('', runner)).toEqual([]);
    expect(runner.calls).toEqual([]);
  });
});
