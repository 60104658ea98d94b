import {
  EXPORTED_VARIABLES,
  STATE_EXPORTED,
  clearCredentials,
  exportCredentials,
  type Exporter,
} from '../src/export-credentials.js';

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
  accountId: '123456789012',
  assumedRoleArn: 'arn:aws:sts::123456789012:assumed-role/r/s',
};

describe('exportCredentials', () => {
  it('masks before exporting, then sets the outputs and the state for post', () => {
    const runner = new RecordingRunner();
    exportCredentials(ROLE, 'ap-northeast-1', false, runner);
    expect(runner.calls).toEqual([
      'mask AKID',
      'mask SECRET',
      'mask TOKEN',
      'env AWS_ACCESS_KEY_ID=AKID',
      'env AWS_SECRET_ACCESS_KEY=SECRET',
      'env AWS_SESSION_TOKEN=TOKEN',
      'env AWS_REGION=ap-northeast-1',
      'env AWS_DEFAULT_REGION=ap-northeast-1',
      'output aws-account-id=123456789012',
      'output assumed-role-arn=arn:aws:sts::123456789012:assumed-role/r/s',
      'output expiration=2030-01-01T00:00:00.000Z',
      `state ${STATE_EXPORTED}=${EXPORTED_VARIABLES.join(',')}`,
    ]);
  });

  it('masks the account id when asked', () => {
    const runner = new RecordingRunner();
    exportCredentials(ROLE, 'ap-northeast-1', true, runner);
    expect(runner.calls).toContain('mask 123456789012');
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
