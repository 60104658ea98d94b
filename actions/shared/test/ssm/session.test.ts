import { SSMClient, StartSessionCommand } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { RecordingLogger } from '../../src/logger.js';
import {
  PORT_FORWARDING_DOCUMENT,
  REMOTE_HOST_DOCUMENT,
  SessionStartError,
  startSession,
  startSessionRequest,
} from '../../src/ssm/session.js';

const awsError = (name: string, status: number): Error =>
  Object.assign(new Error(`${name} from the service`), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });

describe('startSessionRequest', () => {
  it('asks for the port document with the remote and local ports', () => {
    expect(startSessionRequest({ target: 'ecs:c_t_r', remotePort: 80, localPort: 15432 })).toEqual({
      Target: 'ecs:c_t_r',
      DocumentName: PORT_FORWARDING_DOCUMENT,
      Parameters: { portNumber: ['80'], localPortNumber: ['15432'] },
    });
  });

  it('asks for the remote-host document, with the host, when a remote host is given', () => {
    expect(
      startSessionRequest({ target: 'i-0abc', remotePort: 5432, remoteHost: 'db.internal', localPort: 0 }),
    ).toEqual({
      Target: 'i-0abc',
      DocumentName: REMOTE_HOST_DOCUMENT,
      Parameters: { portNumber: ['5432'], localPortNumber: ['0'], host: ['db.internal'] },
    });
  });
});

describe('startSession', () => {
  const request = startSessionRequest({ target: 'ecs:c_t_r', remotePort: 80, localPort: 0 });
  const ssm = new SSMClient({ region: 'eu-west-1', credentials: { accessKeyId: 'A', secretAccessKey: 's' } });
  const mock = mockClient(ssm);
  afterEach(() => mock.reset());
  afterAll(() => mock.restore());

  it('retries a throttled StartSession (the clients run with the SDK retries off)', async () => {
    mock
      .on(StartSessionCommand)
      .rejectsOnce(awsError('ThrottlingException', 400))
      .resolves({ SessionId: 's-1', TokenValue: 't', StreamUrl: 'wss://x' });
    const logger = new RecordingLogger();
    await expect(startSession(ssm, request, logger)).resolves.toMatchObject({ SessionId: 's-1' });
    expect(mock.commandCalls(StartSessionCommand)).toHaveLength(2);
    expect(mock.commandCalls(StartSessionCommand)[0]!.args[0].input).toEqual(request);
  });

  it('does not retry TargetNotConnected, and names it in a SessionStartError', async () => {
    mock.on(StartSessionCommand).rejects(awsError('TargetNotConnected', 400));
    const failure = startSession(ssm, request, new RecordingLogger());
    await expect(failure).rejects.toBeInstanceOf(SessionStartError);
    await expect(failure).rejects.toMatchObject({
      code: 'TargetNotConnected',
      message: 'StartSession failed: TargetNotConnected from the service',
    });
    expect(mock.commandCalls(StartSessionCommand)).toHaveLength(1);
  });
});
