import { parseAwsCall } from '../helpers/iam/aws-call.js';
import { MODELLED_OPERATIONS, requiredPermissions, UnmodelledOperation } from '../helpers/iam/operations.js';
import { actionDetails, SERVICE_REFERENCE_VERSION } from '../helpers/iam/service-reference.js';

/** A signed-looking request of one operation, as the SDK sends it. */
function call(service: string, operation: string, params: Record<string, unknown>) {
  const authorization = `AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261201/eu-west-1/${service}/aws4_request, SignedHeaders=host, Signature=x`;
  if (['ssm', 'ecs', 'logs'].includes(service)) {
    const prefix = { ssm: 'AmazonSSM', ecs: 'AmazonEC2ContainerServiceV20141113', logs: 'Logs_20140328' }[service];
    return parseAwsCall(
      'POST',
      '/',
      { authorization, 'x-amz-target': `${prefix}.${operation}` },
      Buffer.from(JSON.stringify(params)),
    );
  }
  const body = new URLSearchParams({ Action: operation, ...(params as Record<string, string>) }).toString();
  return parseAwsCall(
    'POST',
    '/',
    { authorization, 'content-type': 'application/x-www-form-urlencoded' },
    Buffer.from(body),
  );
}

const SCOPE = { account: '210987654321', partition: 'aws' };

describe('the operations the gate models', () => {
  it(`authorize only actions of AWS's Service Authorization Reference (${SERVICE_REFERENCE_VERSION})`, () => {
    const actions = new Set<string>();
    // Each modelled operation's own action, as IAM names it.
    for (const operation of MODELLED_OPERATIONS) actions.add(operation);
    const unknown = [...actions].filter((action) => !actionDetails(action) && !action.startsWith('s3:'));
    expect(unknown).toEqual([]);
  });

  it('name the resource IAM authorizes a call on', () => {
    expect(requiredPermissions(call('cloudformation', 'GetTemplate', { StackName: 'dev-network' }), SCOPE)).toEqual([
      {
        action: 'cloudformation:GetTemplate',
        resource:
          'arn:aws:cloudformation:eu-west-1:210987654321:stack/dev-network/00000000-0000-0000-0000-000000000000',
      },
    ]);
    expect(requiredPermissions(call('ssm', 'GetParameter', { Name: '/cdk-bootstrap/dev/version' }), SCOPE)).toEqual([
      {
        action: 'ssm:GetParameter',
        resource: 'arn:aws:ssm:eu-west-1:210987654321:parameter/cdk-bootstrap/dev/version',
      },
    ]);
    expect(
      requiredPermissions(
        call('ssm', 'StartSession', { Target: 'ecs:c_t1_r1', DocumentName: 'AWS-StartPortForwardingSession' }),
        SCOPE,
      ),
    ).toEqual([
      { action: 'ssm:StartSession', resource: 'arn:aws:ecs:eu-west-1:210987654321:task/c/t1' },
      { action: 'ssm:StartSession', resource: 'arn:aws:ssm:eu-west-1::document/AWS-StartPortForwardingSession' },
    ]);
    expect(requiredPermissions(call('ecs', 'ListTasks', { cluster: 'c' }), SCOPE)).toEqual([
      {
        action: 'ecs:ListTasks',
        resource: '*',
        context: { 'ecs:cluster': 'arn:aws:ecs:eu-west-1:210987654321:cluster/c' },
      },
    ]);
  });

  it('add iam:PassRole for the execution role a stack operation names', () => {
    const permissions = requiredPermissions(
      call('cloudformation', 'CreateStack', { StackName: 's', RoleARN: 'arn:aws:iam::210987654321:role/exec' }),
      SCOPE,
    );
    expect(permissions.map((p) => p.action)).toEqual(['cloudformation:CreateStack', 'iam:PassRole']);
    expect(permissions[1]).toMatchObject({ context: { 'iam:PassedToService': 'cloudformation.amazonaws.com' } });
  });

  it('refuse to guess an operation nobody modelled', () => {
    expect(() => requiredPermissions(call('iam', 'CreateUser', { UserName: 'x' }), SCOPE)).toThrow(UnmodelledOperation);
  });
});
