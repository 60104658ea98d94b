/**
 * The offline IAM evaluator, proved on AWS's own examples: every feature has a case AWS allows and
 * one it denies. Policies and expected outcomes are taken from these pages (read 2026-12-01) unless
 * a comment says the case is ours:
 * - [boundaries] Permissions boundaries for IAM entities:
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
 * - [operators] IAM JSON policy elements: Condition operators:
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
 * - [multivalued] Single-valued vs. multivalued context keys:
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
 * - [condition] Conditions with multiple context keys or values:
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html
 * - [variables] IAM policy elements: Variables and tags:
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
 * - [action] IAM JSON policy elements: Action:
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
 * - [resource] IAM JSON policy elements: Resource:
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
 * - [notaction] IAM JSON policy elements: NotAction:
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html
 * - [keys] AWS global condition context keys:
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
 * - [deny-allow] How AWS enforcement code logic evaluates requests to allow or deny access:
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
 * - [principal] AWS JSON policy elements: Principal:
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
 * - [assume-role] AWS STS API Reference, AssumeRole:
 *   https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
 * - [ssm] Systems Manager User Guide, Additional sample IAM policies for Session Manager ("Allow a user
 *   to end only sessions they started"):
 *   https://docs.aws.amazon.com/systems-manager/latest/userguide/getting-started-restrict-access-examples.html
 * - [ecs] Amazon ECS Developer Guide, Identity-based policy examples ("Run Amazon ECS task example"):
 *   https://docs.aws.amazon.com/AmazonECS/latest/developerguide/security_iam_id-based-policy-examples.html
 */
import {
  authorize,
  evaluatePolicy,
  explain,
  globMatch,
  PolicyEvaluationError,
  type AuthorizationRequest,
  type PolicyDocument,
  type Principal,
} from '../helpers/iam/evaluator.js';

const VERSION = '2012-10-17';
const ACCOUNT = '111122223333';

function request(
  action: string,
  resource: string,
  context: AuthorizationRequest['context'] = {},
  principal?: Principal,
): AuthorizationRequest {
  return principal === undefined ? { action, resource, context } : { action, resource, context, principal };
}

const user = (name: string, account = ACCOUNT): Principal => ({
  type: 'AWS',
  id: `arn:aws:iam::${account}:user/${name}`,
});
const session = (role: string, name: string, account = ACCOUNT): Principal => ({
  type: 'AWS',
  id: `arn:aws:sts::${account}:assumed-role/${role}/${name}`,
});

// [boundaries], Task 1: the XCompanyBoundaries policy.
const X_COMPANY_BOUNDARIES: PolicyDocument = {
  Version: VERSION,
  Statement: [
    {
      Sid: 'ServiceBoundaries',
      Effect: 'Allow',
      Action: ['s3:*', 'cloudwatch:*', 'ec2:*', 'dynamodb:*'],
      Resource: '*',
    },
    {
      Sid: 'AllowIAMConsoleForCredentials',
      Effect: 'Allow',
      Action: ['iam:ListUsers', 'iam:GetAccountPasswordPolicy'],
      Resource: '*',
    },
    {
      Sid: 'AllowManageOwnPasswordAndAccessKeys',
      Effect: 'Allow',
      Action: [
        'iam:*AccessKey*',
        'iam:ChangePassword',
        'iam:GetUser',
        'iam:*ServiceSpecificCredential*',
        'iam:*SigningCertificate*',
      ],
      Resource: ['arn:aws:iam::*:user/${aws:username}'],
    },
    { Sid: 'DenyS3Logs', Effect: 'Deny', Action: 's3:*', Resource: ['arn:aws:s3:::logs', 'arn:aws:s3:::logs/*'] },
    {
      Sid: 'DenyEC2Production',
      Effect: 'Deny',
      Action: 'ec2:*',
      Resource: 'arn:aws:ec2:*:*:instance/i-1234567890abcdef0',
    },
  ],
};

describe('Effect: an explicit Deny beats an Allow ([boundaries] XCompanyBoundaries)', () => {
  it('allows S3 outside the logs bucket', () => {
    expect(explain(X_COMPANY_BOUNDARIES, request('s3:GetObject', 'arn:aws:s3:::reports/q1.csv'))).toEqual({
      decision: 'Allow',
      statement: '"ServiceBoundaries"',
    });
  });
  it('denies the logs bucket and the production instance although s3:* and ec2:* are allowed', () => {
    expect(explain(X_COMPANY_BOUNDARIES, request('s3:GetObject', 'arn:aws:s3:::logs/app.log'))).toEqual({
      decision: 'ExplicitDeny',
      statement: '"DenyS3Logs"',
    });
    expect(
      evaluatePolicy(
        X_COMPANY_BOUNDARIES,
        request('ec2:TerminateInstances', `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-1234567890abcdef0`),
      ),
    ).toBe('ExplicitDeny');
  });
  it('implicitly denies what no statement allows', () => {
    expect(explain(X_COMPANY_BOUNDARIES, request('iam:CreateUser', `arn:aws:iam::${ACCOUNT}:user/new`))).toEqual({
      decision: 'ImplicitDeny',
    });
  });
  it('names a statement without Sid by its index', () => {
    const policy: PolicyDocument = { Statement: { Effect: 'Allow', Action: 's3:*', Resource: '*' } };
    expect(explain(policy, request('s3:GetObject', 'arn:aws:s3:::b/k')).statement).toBe('Statement[0]');
  });
});

describe('Action and NotAction', () => {
  // [notaction]: "allow access to all of the actions in all AWS services, except for IAM".
  const allButIam: PolicyDocument = {
    Version: VERSION,
    Statement: { Effect: 'Allow', NotAction: 'iam:*', Resource: '*' },
  };

  it('NotAction allows every action it does not list, and nothing it lists', () => {
    expect(evaluatePolicy(allButIam, request('s3:ListBucket', 'arn:aws:s3:::amzn-s3-demo-bucket'))).toBe('Allow');
    expect(evaluatePolicy(allButIam, request('iam:CreateUser', `arn:aws:iam::${ACCOUNT}:user/x`))).toBe('ImplicitDeny');
  });
  it('matches action names case-insensitively ([action] "iam:ListAccessKeys is the same as IAM:listaccesskeys")', () => {
    const policy: PolicyDocument = { Statement: { Effect: 'Allow', Action: 'IAM:listaccesskeys', Resource: '*' } };
    expect(evaluatePolicy(policy, request('iam:ListAccessKeys', `arn:aws:iam::${ACCOUNT}:user/alice`))).toBe('Allow');
    expect(evaluatePolicy(policy, request('iam:ListAccessKey', `arn:aws:iam::${ACCOUNT}:user/alice`))).toBe(
      'ImplicitDeny',
    );
  });
  it('matches * and ? wildcards in actions ([boundaries] iam:*AccessKey*)', () => {
    const policy: PolicyDocument = {
      Statement: { Effect: 'Allow', Action: ['iam:*AccessKey*', 'iam:?etUser'], Resource: '*' },
    };
    for (const allowed of ['iam:CreateAccessKey', 'iam:UpdateAccessKey', 'iam:ListAccessKeys', 'iam:GetUser']) {
      expect(evaluatePolicy(policy, request(allowed, '*'))).toBe('Allow');
    }
    for (const denied of ['iam:CreateUser', 'iam:GetUsers', 'iam:ForgetUser']) {
      expect(evaluatePolicy(policy, request(denied, '*'))).toBe('ImplicitDeny');
    }
  });
});

describe('Resource and NotResource', () => {
  it('NotResource covers every resource but the listed ones ([boundaries] DelegatedUserBoundary)', () => {
    const policy: PolicyDocument = {
      Version: VERSION,
      Statement: {
        Sid: 'CloudWatchAndOtherIAMTasks',
        Effect: 'Allow',
        Action: ['iam:DeleteUser', 'iam:CreateAccessKey'],
        NotResource: 'arn:aws:iam::123456789012:user/Maria',
      },
    };
    expect(evaluatePolicy(policy, request('iam:DeleteUser', 'arn:aws:iam::123456789012:user/Zhang'))).toBe('Allow');
    expect(evaluatePolicy(policy, request('iam:DeleteUser', 'arn:aws:iam::123456789012:user/Maria'))).toBe(
      'ImplicitDeny',
    );
  });

  // [resource]: "DOC-EXAMPLE-BUCKET/*/test/*" and the objects it does and does not cover.
  const s3Pattern: PolicyDocument = {
    Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::DOC-EXAMPLE-BUCKET/*/test/*' },
  };
  it.each([
    'DOC-EXAMPLE-BUCKET/1/test/object.jpg',
    'DOC-EXAMPLE-BUCKET/1/2/test/object.jpg',
    'DOC-EXAMPLE-BUCKET/1/2/test/3/object.jpg',
    'DOC-EXAMPLE-BUCKET/1/2/3/test/4/object.jpg',
    'DOC-EXAMPLE-BUCKET/1///test///object.jpg',
    'DOC-EXAMPLE-BUCKET/1/test/.jpg',
    'DOC-EXAMPLE-BUCKET//test/object.jpg',
    'DOC-EXAMPLE-BUCKET/1/test/',
  ])('a * runs across "/": allows %s', (key) => {
    expect(evaluatePolicy(s3Pattern, request('s3:GetObject', `arn:aws:s3:::${key}`))).toBe('Allow');
  });
  it.each([
    'DOC-EXAMPLE-BUCKET/1-test/object.jpg',
    'DOC-EXAMPLE-BUCKET/test/object.jpg',
    'DOC-EXAMPLE-BUCKET/1/2/test.jpg',
  ])('denies %s', (key) => {
    expect(evaluatePolicy(s3Pattern, request('s3:GetObject', `arn:aws:s3:::${key}`))).toBe('ImplicitDeny');
  });
  it('matches resources case-sensitively', () => {
    expect(evaluatePolicy(s3Pattern, request('s3:GetObject', 'arn:aws:s3:::doc-example-bucket/1/test/x'))).toBe(
      'ImplicitDeny',
    );
  });

  it('keeps a wildcard inside its ARN segment, and lets the resource segment hold colons', () => {
    // [resource]: wildcards are used "within any ARN segment (the parts separated by colons)". A plain
    // glob would let the region's * swallow ":999988887777:log-group" and match another account.
    const logs: PolicyDocument = {
      Statement: { Effect: 'Allow', Action: 'logs:*', Resource: `arn:aws:logs:*:${ACCOUNT}:log-group:*` },
    };
    expect(
      evaluatePolicy(
        logs,
        request('logs:PutLogEvents', `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:app:log-stream:web`),
      ),
    ).toBe('Allow');
    expect(
      evaluatePolicy(
        logs,
        request('logs:PutLogEvents', `arn:aws:logs:us-east-1:999988887777:log-group:${ACCOUNT}:log-group:x`),
      ),
    ).toBe('ImplicitDeny');
  });

  it('matches a request on "*" (an action with no resource type) only with Resource "*"', () => {
    // [ssm]'s sample policies grant ssm:DescribeSessions on "*": it has no resource type.
    const star: PolicyDocument = { Statement: { Effect: 'Allow', Action: 'ssm:DescribeSessions', Resource: '*' } };
    const arn: PolicyDocument = {
      Statement: { Effect: 'Allow', Action: 'ssm:DescribeSessions', Resource: 'arn:aws:ssm:*:*:*' },
    };
    expect(evaluatePolicy(star, request('ssm:DescribeSessions', '*'))).toBe('Allow');
    expect(evaluatePolicy(arn, request('ssm:DescribeSessions', '*'))).toBe('ImplicitDeny');
  });

  it('substitutes policy variables in Resource, and a missing one matches no resource ([boundaries] ${aws:username})', () => {
    const own = request('iam:CreateAccessKey', `arn:aws:iam::${ACCOUNT}:user/zhang`, { 'aws:username': 'zhang' });
    expect(explain(X_COMPANY_BOUNDARIES, own)).toEqual({
      decision: 'Allow',
      statement: '"AllowManageOwnPasswordAndAccessKeys"',
    });
    expect(evaluatePolicy(X_COMPANY_BOUNDARIES, { ...own, resource: `arn:aws:iam::${ACCOUNT}:user/maria` })).toBe(
      'ImplicitDeny',
    );
    // A role session has no aws:username [variables]: the resource then matches nothing.
    expect(evaluatePolicy(X_COMPANY_BOUNDARIES, { ...own, context: { 'aws:userid': 'AROAEXAMPLE:zhang' } })).toBe(
      'ImplicitDeny',
    );
  });

  it('uses a variable default when the key is missing ([variables] Specifying default values)', () => {
    const policy: PolicyDocument = {
      Version: VERSION,
      Statement: {
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: "arn:aws:s3:::amzn-s3-demo-bucket-${aws:PrincipalTag/team, 'company-wide'}/*",
      },
    };
    const get = (bucket: string, context: AuthorizationRequest['context']) =>
      evaluatePolicy(policy, request('s3:GetObject', `arn:aws:s3:::${bucket}/readme.txt`, context));
    expect(get('amzn-s3-demo-bucket-yellow', { 'aws:PrincipalTag/team': 'yellow' })).toBe('Allow');
    expect(get('amzn-s3-demo-bucket-company-wide', {})).toBe('Allow');
    expect(get('amzn-s3-demo-bucket-company-wide', { 'aws:PrincipalTag/team': 'yellow' })).toBe('ImplicitDeny');
    expect(get('amzn-s3-demo-bucket-yellow', {})).toBe('ImplicitDeny');
  });

  it('a variable with no value is null, not an empty string ([variables] AllowAccessBasedOnArnMatching)', () => {
    const policy: PolicyDocument = {
      Version: VERSION,
      Statement: {
        Sid: 'AllowAccessBasedOnArnMatching',
        Effect: 'Allow',
        Action: ['sns:CreateTopic', 'sns:DeleteTopic'],
        Resource: [
          'arn:aws:sns:*:*:${aws:PrincipalTag/access-project}-${aws:PrincipalTag/access-application}-${aws:PrincipalTag/access-environment}-*',
        ],
      },
    };
    const tags = { 'aws:PrincipalTag/access-project': 'alpha', 'aws:PrincipalTag/access-application': 'web' };
    const create = (topic: string, context: AuthorizationRequest['context']) =>
      evaluatePolicy(policy, request('sns:CreateTopic', `arn:aws:sns:us-east-1:${ACCOUNT}:${topic}`, context));
    expect(create('alpha-web-dev-orders', { ...tags, 'aws:PrincipalTag/access-environment': 'dev' })).toBe('Allow');
    expect(create('alpha-web-prod-orders', { ...tags, 'aws:PrincipalTag/access-environment': 'dev' })).toBe(
      'ImplicitDeny',
    );
    // Substituting "" for the missing tag would match "alpha-web--orders": AWS says it matches nothing.
    expect(create('alpha-web--orders', tags)).toBe('ImplicitDeny');
  });

  it('reads ${*} as a literal asterisk ([variables] Special characters)', () => {
    const policy: PolicyDocument = {
      Version: VERSION,
      Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::bucket/${*}' },
    };
    expect(evaluatePolicy(policy, request('s3:GetObject', 'arn:aws:s3:::bucket/*'))).toBe('Allow');
    expect(evaluatePolicy(policy, request('s3:GetObject', 'arn:aws:s3:::bucket/anything'))).toBe('ImplicitDeny');
  });
});

describe('policy variables in conditions: ${aws:userid} on the Session Manager session-id tag ([ssm])', () => {
  const ownSessions: PolicyDocument = {
    Version: VERSION,
    Statement: {
      Effect: 'Allow',
      Action: ['ssm:TerminateSession', 'ssm:ResumeSession'],
      Resource: 'arn:aws:ssm:*:*:session/*',
      Condition: { StringLike: { 'ssm:resourceTag/aws:ssmmessages:session-id': ['${aws:userid}'] } },
    },
  };
  const terminate = (context: AuthorizationRequest['context']) =>
    request('ssm:TerminateSession', `arn:aws:ssm:us-east-1:${ACCOUNT}:session/alice-0a1b2c3d4e5f`, context);
  const ALICE = 'AROAEXAMPLEROLEID:alice';

  it("allows ending a session whose session-id tag is the caller's aws:userid", () => {
    expect(
      evaluatePolicy(
        ownSessions,
        terminate({ 'aws:userid': ALICE, 'ssm:resourceTag/aws:ssmmessages:session-id': ALICE }),
      ),
    ).toBe('Allow');
  });
  it("denies another user's session, and any session when aws:userid is missing", () => {
    expect(
      evaluatePolicy(
        ownSessions,
        terminate({ 'aws:userid': ALICE, 'ssm:resourceTag/aws:ssmmessages:session-id': 'AROAEXAMPLEROLEID:bob' }),
      ),
    ).toBe('ImplicitDeny');
    expect(evaluatePolicy(ownSessions, terminate({ 'ssm:resourceTag/aws:ssmmessages:session-id': ALICE }))).toBe(
      'ImplicitDeny',
    );
  });
  it('treats variables as literal text without Version 2012-10-17 ([variables] note on Version)', () => {
    const { Version: _dropped, ...unversioned } = ownSessions;
    expect(
      evaluatePolicy(
        unversioned,
        terminate({ 'aws:userid': ALICE, 'ssm:resourceTag/aws:ssmmessages:session-id': ALICE }),
      ),
    ).toBe('ImplicitDeny');
    expect(
      evaluatePolicy(
        unversioned,
        terminate({ 'aws:userid': ALICE, 'ssm:resourceTag/aws:ssmmessages:session-id': '${aws:userid}' }),
      ),
    ).toBe('Allow');
  });
  it('refuses a substituted value holding a wildcard (AWS does not say whether it is one)', () => {
    expect(() =>
      evaluatePolicy(
        ownSessions,
        terminate({ 'aws:userid': 'AROA*', 'ssm:resourceTag/aws:ssmmessages:session-id': ALICE }),
      ),
    ).toThrow(PolicyEvaluationError);
  });
  it('refuses a multivalued key as a variable ([multivalued] "You can\'t use a multivalued condition key as a variable")', () => {
    expect(() =>
      evaluatePolicy(
        ownSessions,
        terminate({ 'aws:userid': [ALICE, 'other'], 'ssm:resourceTag/aws:ssmmessages:session-id': ALICE }),
      ),
    ).toThrow(/multivalued context key/);
  });
});

describe('String operators ([operators] String condition operators)', () => {
  const tagged = (operator: string, value: string): PolicyDocument => ({
    Version: VERSION,
    Statement: {
      Effect: 'Allow',
      Action: 'iam:*AccessKey*',
      Resource: `arn:aws:iam::${ACCOUNT}:user/*`,
      Condition: { [operator]: { 'aws:PrincipalTag/job-category': value } },
    },
  });
  const call = (context: AuthorizationRequest['context']) =>
    request('iam:CreateAccessKey', `arn:aws:iam::${ACCOUNT}:user/someone`, context);

  it("StringEquals: the doc's table (match, other value, missing key)", () => {
    const policy = tagged('StringEquals', 'iamuser-admin');
    expect(evaluatePolicy(policy, call({ 'aws:PrincipalTag/job-category': 'iamuser-admin' }))).toBe('Allow');
    expect(evaluatePolicy(policy, call({ 'aws:PrincipalTag/job-category': 'dev-ops' }))).toBe('ImplicitDeny');
    expect(evaluatePolicy(policy, call({}))).toBe('ImplicitDeny');
  });
  it('condition keys are case-insensitive, values case-sensitive unless IgnoreCase', () => {
    expect(
      evaluatePolicy(
        tagged('StringEquals', 'iamuser-admin'),
        call({ 'AWS:PRINCIPALTAG/Job-Category': 'iamuser-admin' }),
      ),
    ).toBe('Allow');
    expect(
      evaluatePolicy(
        tagged('StringEquals', 'iamuser-admin'),
        call({ 'aws:PrincipalTag/job-category': 'IAMUser-Admin' }),
      ),
    ).toBe('ImplicitDeny');
    expect(
      evaluatePolicy(
        tagged('StringEqualsIgnoreCase', 'iamuser-admin'),
        call({ 'aws:PrincipalTag/job-category': 'IAMUser-Admin' }),
      ),
    ).toBe('Allow');
    expect(
      evaluatePolicy(
        tagged('StringNotEqualsIgnoreCase', 'iamuser-admin'),
        call({ 'aws:PrincipalTag/job-category': 'IAMUser-Admin' }),
      ),
    ).toBe('ImplicitDeny');
    expect(
      evaluatePolicy(
        tagged('StringNotEqualsIgnoreCase', 'iamuser-admin'),
        call({ 'aws:PrincipalTag/job-category': 'dev-ops' }),
      ),
    ).toBe('Allow');
  });
  it('StringLike and StringNotLike use * and ?; StringEquals does not', () => {
    expect(
      evaluatePolicy(tagged('StringLike', 'iamuser-*'), call({ 'aws:PrincipalTag/job-category': 'iamuser-admin' })),
    ).toBe('Allow');
    expect(
      evaluatePolicy(tagged('StringLike', 'iamuser-?'), call({ 'aws:PrincipalTag/job-category': 'iamuser-admin' })),
    ).toBe('ImplicitDeny');
    expect(
      evaluatePolicy(tagged('StringEquals', 'iamuser-*'), call({ 'aws:PrincipalTag/job-category': 'iamuser-admin' })),
    ).toBe('ImplicitDeny');
    expect(
      evaluatePolicy(tagged('StringNotLike', 'dev-*'), call({ 'aws:PrincipalTag/job-category': 'iamuser-admin' })),
    ).toBe('Allow');
    expect(
      evaluatePolicy(tagged('StringNotLike', 'iam*'), call({ 'aws:PrincipalTag/job-category': 'iamuser-admin' })),
    ).toBe('ImplicitDeny');
  });

  it('several values for one key OR; for a negated operator they NOR; several keys AND ([condition])', () => {
    const policy = (operator: string): PolicyDocument => ({
      Statement: {
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: '*',
        Condition: { [operator]: { 'aws:PrincipalTag/team': ['red', 'blue'], 'aws:PrincipalTag/env': 'dev' } },
      },
    });
    const get = (team: string, env = 'dev') =>
      request('s3:GetObject', 'arn:aws:s3:::b/k', { 'aws:PrincipalTag/team': team, 'aws:PrincipalTag/env': env });
    expect(evaluatePolicy(policy('StringEquals'), get('blue'))).toBe('Allow');
    expect(evaluatePolicy(policy('StringEquals'), get('green'))).toBe('ImplicitDeny');
    expect(evaluatePolicy(policy('StringEquals'), get('blue', 'prod'))).toBe('ImplicitDeny');
    expect(evaluatePolicy(policy('StringNotEquals'), get('green', 'prod'))).toBe('Allow');
    expect(evaluatePolicy(policy('StringNotEquals'), get('blue', 'prod'))).toBe('ImplicitDeny');
  });
});

describe('a missing key under a negated operator matches', () => {
  // [variables] Policy variables with no value: "Access is explicitly denied when aws:principaltag/Team is not set."
  const teamOnly: PolicyDocument = {
    Version: VERSION,
    Statement: [
      { Sid: 'ReadBucket', Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::amzn-s3-demo-bucket/*' },
      {
        Sid: 'OwnTeamOnly',
        Effect: 'Deny',
        Action: 's3:GetObject',
        Resource: 'arn:aws:s3:::amzn-s3-demo-bucket/*',
        Condition: { StringNotEquals: { 's3:ExistingObjectTag/Team': '${aws:PrincipalTag/Team}' } },
      },
    ],
  };
  const get = (context: AuthorizationRequest['context']) =>
    request('s3:GetObject', 'arn:aws:s3:::amzn-s3-demo-bucket/plan.txt', context);

  it("allows an object of the caller's own team", () => {
    expect(evaluatePolicy(teamOnly, get({ 'aws:PrincipalTag/Team': 'red', 's3:ExistingObjectTag/Team': 'red' }))).toBe(
      'Allow',
    );
  });
  it("denies another team's object, an untagged caller, and an untagged object", () => {
    expect(evaluatePolicy(teamOnly, get({ 'aws:PrincipalTag/Team': 'red', 's3:ExistingObjectTag/Team': 'blue' }))).toBe(
      'ExplicitDeny',
    );
    expect(evaluatePolicy(teamOnly, get({ 's3:ExistingObjectTag/Team': 'red' }))).toBe('ExplicitDeny');
    expect(evaluatePolicy(teamOnly, get({ 'aws:PrincipalTag/Team': 'red' }))).toBe('ExplicitDeny');
  });
  it('a condition variable with no value equals nothing, not even an empty value ([variables])', () => {
    const policy = (operator: string): PolicyDocument => ({
      Version: VERSION,
      Statement: {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: 'arn:aws:s3:::amzn-s3-demo-bucket',
        Condition: { [operator]: { 's3:prefix': '${aws:username}' } },
      },
    });
    const list = (context: AuthorizationRequest['context']) =>
      request('s3:ListBucket', 'arn:aws:s3:::amzn-s3-demo-bucket', context);
    expect(
      evaluatePolicy(policy('StringEquals'), list({ 's3:prefix': 'martha_rivera', 'aws:username': 'martha_rivera' })),
    ).toBe('Allow');
    expect(evaluatePolicy(policy('StringEquals'), list({ 's3:prefix': '' }))).toBe('ImplicitDeny');
    expect(evaluatePolicy(policy('StringNotEquals'), list({ 's3:prefix': '' }))).toBe('Allow');
  });
  it('StringNotEquals on a missing aws:PrincipalAccount denies ([keys] aws:PrincipalAccount example)', () => {
    const policy: PolicyDocument = {
      Version: VERSION,
      Statement: [
        { Effect: 'Allow', Action: 's3:*', Resource: '*' },
        {
          Sid: 'DenyAccessFromPrincipalNotInSpecificAccount',
          Effect: 'Deny',
          Action: 's3:*',
          Resource: ['arn:aws:s3:::amzn-s3-demo-bucket/*'],
          Condition: { StringNotEquals: { 'aws:PrincipalAccount': ['123456789012'] } },
        },
      ],
    };
    const get = (context: AuthorizationRequest['context']) =>
      request('s3:GetObject', 'arn:aws:s3:::amzn-s3-demo-bucket/x', context);
    expect(evaluatePolicy(policy, get({ 'aws:PrincipalAccount': '123456789012' }))).toBe('Allow');
    expect(evaluatePolicy(policy, get({ 'aws:PrincipalAccount': '999988887777' }))).toBe('ExplicitDeny');
    expect(evaluatePolicy(policy, get({}))).toBe('ExplicitDeny');
  });
});

describe('ARN operators', () => {
  // [ecs] Run Amazon ECS task example.
  const runOnDefault: PolicyDocument = {
    Version: VERSION,
    Statement: {
      Effect: 'Allow',
      Action: ['ecs:RunTask'],
      Condition: { ArnEquals: { 'ecs:cluster': `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/default` } },
      Resource: [`arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/hello_*:*`],
    },
  };
  const run = (context: AuthorizationRequest['context'], family = 'hello_world:8') =>
    request('ecs:RunTask', `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/${family}`, context);

  it('ArnEquals on ecs:cluster allows the named cluster', () => {
    expect(
      evaluatePolicy(runOnDefault, run({ 'ecs:cluster': `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/default` })),
    ).toBe('Allow');
  });
  it('ArnEquals on ecs:cluster denies another cluster, a missing key, and another task family', () => {
    expect(evaluatePolicy(runOnDefault, run({ 'ecs:cluster': `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/prod` }))).toBe(
      'ImplicitDeny',
    );
    expect(evaluatePolicy(runOnDefault, run({}))).toBe('ImplicitDeny');
    expect(
      evaluatePolicy(
        runOnDefault,
        run({ 'ecs:cluster': `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/default` }, 'other:1'),
      ),
    ).toBe('ImplicitDeny');
  });
  it('ArnLike matches each of the six parts on its own, with wildcards; ArnNotLike holds on a missing key', () => {
    const policy = (operator: string): PolicyDocument => ({
      Statement: {
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Resource: '*',
        Condition: { [operator]: { 'aws:SourceArn': `arn:aws:sns:*:${ACCOUNT}:topic-*` } },
      },
    });
    const send = (context: AuthorizationRequest['context']) =>
      request('sqs:SendMessage', `arn:aws:sqs:us-east-1:${ACCOUNT}:queue`, context);
    expect(
      evaluatePolicy(policy('ArnLike'), send({ 'aws:SourceArn': `arn:aws:sns:us-west-2:${ACCOUNT}:topic-a` })),
    ).toBe('Allow');
    expect(
      evaluatePolicy(policy('ArnLike'), send({ 'aws:SourceArn': `arn:aws:sns:us-west-2:777788889999:topic-a` })),
    ).toBe('ImplicitDeny');
    // A plain glob would match this: the region's * would run over ":777788889999:x" into the account.
    expect(
      evaluatePolicy(
        policy('ArnLike'),
        send({ 'aws:SourceArn': `arn:aws:sns:us-west-2:777788889999:${ACCOUNT}:topic-a` }),
      ),
    ).toBe('ImplicitDeny');
    expect(evaluatePolicy(policy('ArnNotLike'), send({}))).toBe('Allow');
    expect(
      evaluatePolicy(policy('ArnNotEquals'), send({ 'aws:SourceArn': `arn:aws:sns:us-west-2:${ACCOUNT}:topic-a` })),
    ).toBe('ImplicitDeny');
  });
  it('refuses a context value that is not an ARN', () => {
    expect(() => evaluatePolicy(runOnDefault, run({ 'ecs:cluster': 'default' }))).toThrow(/expected an ARN/);
  });
});

describe('Bool, IfExists and Null', () => {
  // [keys] aws:MultiFactorAuthPresent: Deny with BoolIfExists false denies requests without MFA,
  // including long-term access keys, where the key is missing.
  const requireMfa: PolicyDocument = {
    Version: VERSION,
    Statement: [
      { Sid: 'AllowAll', Effect: 'Allow', Action: '*', Resource: '*' },
      {
        Sid: 'DenyWithoutMfa',
        Effect: 'Deny',
        Action: '*',
        Resource: '*',
        Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } },
      },
    ],
  };
  const list = (context: AuthorizationRequest['context']) => request('s3:ListAllMyBuckets', '*', context);

  it('BoolIfExists on a missing key holds, so the Deny applies', () => {
    expect(explain(requireMfa, list({}))).toEqual({ decision: 'ExplicitDeny', statement: '"DenyWithoutMfa"' });
    expect(evaluatePolicy(requireMfa, list({ 'aws:MultiFactorAuthPresent': 'false' }))).toBe('ExplicitDeny');
  });
  it('BoolIfExists on a present key compares it (case-insensitively)', () => {
    expect(evaluatePolicy(requireMfa, list({ 'aws:MultiFactorAuthPresent': 'true' }))).toBe('Allow');
    expect(evaluatePolicy(requireMfa, list({ 'aws:MultiFactorAuthPresent': 'TRUE' }))).toBe('Allow');
  });
  it('Bool without IfExists does not match a missing key ([operators] Bool table)', () => {
    const denyInsecure: PolicyDocument = {
      Version: VERSION,
      Statement: [
        { Effect: 'Allow', Action: 's3:ReplicateObject', Resource: '*' },
        {
          Sid: 'BooleanExample',
          Action: 's3:ReplicateObject',
          Effect: 'Deny',
          Resource: ['arn:aws:s3:::amzn-s3-demo-bucket', 'arn:aws:s3:::amzn-s3-demo-bucket/*'],
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ],
    };
    const replicate = (context: AuthorizationRequest['context']) =>
      request('s3:ReplicateObject', 'arn:aws:s3:::amzn-s3-demo-bucket/o', context);
    expect(evaluatePolicy(denyInsecure, replicate({ 'aws:SecureTransport': 'false' }))).toBe('ExplicitDeny');
    expect(evaluatePolicy(denyInsecure, replicate({ 'aws:SecureTransport': 'true' }))).toBe('Allow');
    expect(evaluatePolicy(denyInsecure, replicate({}))).toBe('Allow');
  });
  it("StringLikeIfExists: the doc's ec2:InstanceType table", () => {
    const policy: PolicyDocument = {
      Version: VERSION,
      Statement: {
        Sid: 'RunInstance',
        Effect: 'Allow',
        Action: 'ec2:RunInstances',
        Resource: '*',
        Condition: { StringLikeIfExists: { 'ec2:InstanceType': ['t1.*', 't2.*', 'm3.*'] } },
      },
    };
    const launch = (context: AuthorizationRequest['context']) =>
      request('ec2:RunInstances', `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/*`, context);
    expect(evaluatePolicy(policy, launch({ 'ec2:InstanceType': 't1.micro' }))).toBe('Allow');
    expect(evaluatePolicy(policy, launch({ 'ec2:InstanceType': 'm2.micro' }))).toBe('ImplicitDeny');
    expect(evaluatePolicy(policy, launch({}))).toBe('Allow');
  });
  it('Null "false" requires the key and "true" its absence ([operators] aws:TokenIssueTime example)', () => {
    const temporaryOnly = (value: string): PolicyDocument => ({
      Version: VERSION,
      Statement: {
        Action: 'ec2:*',
        Effect: 'Allow',
        Resource: '*',
        Condition: { Null: { 'aws:TokenIssueTime': value } },
      },
    });
    const describe = (context: AuthorizationRequest['context']) => request('ec2:DescribeInstances', '*', context);
    expect(evaluatePolicy(temporaryOnly('false'), describe({ 'aws:TokenIssueTime': '2026-12-01T00:00:00Z' }))).toBe(
      'Allow',
    );
    expect(evaluatePolicy(temporaryOnly('false'), describe({}))).toBe('ImplicitDeny');
    expect(evaluatePolicy(temporaryOnly('true'), describe({}))).toBe('Allow');
    expect(evaluatePolicy(temporaryOnly('true'), describe({ 'aws:TokenIssueTime': '2026-12-01T00:00:00Z' }))).toBe(
      'ImplicitDeny',
    );
  });
  it('refuses a Bool value that is not true or false', () => {
    const policy: PolicyDocument = {
      Statement: { Effect: 'Allow', Action: '*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'yes' } } },
    };
    expect(() => evaluatePolicy(policy, list({}))).toThrow(/expected "true" or "false"/);
    expect(() => evaluatePolicy(requireMfa, list({ 'aws:MultiFactorAuthPresent': 'maybe' }))).toThrow(
      PolicyEvaluationError,
    );
  });
});

describe('Numeric operators ([operators] s3:max-keys example)', () => {
  const upToTen = (operator = 'NumericLessThanEquals'): PolicyDocument => ({
    Version: VERSION,
    Statement: {
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: 'arn:aws:s3:::amzn-s3-demo-bucket',
      Condition: { [operator]: { 's3:max-keys': '10' } },
    },
  });
  const listing = (context: AuthorizationRequest['context']) =>
    request('s3:ListBucket', 'arn:aws:s3:::amzn-s3-demo-bucket', context);

  it('allows up to 10 keys', () => {
    expect(evaluatePolicy(upToTen(), listing({ 's3:max-keys': '10' }))).toBe('Allow');
    expect(evaluatePolicy(upToTen(), listing({ 's3:max-keys': '2.5' }))).toBe('Allow');
  });
  it('denies 11 keys and a missing key', () => {
    expect(evaluatePolicy(upToTen(), listing({ 's3:max-keys': '11' }))).toBe('ImplicitDeny');
    expect(evaluatePolicy(upToTen(), listing({}))).toBe('ImplicitDeny');
  });
  it.each([
    ['NumericEquals', '10', 'Allow'],
    ['NumericEquals', '9', 'ImplicitDeny'],
    ['NumericNotEquals', '9', 'Allow'],
    ['NumericNotEquals', '10', 'ImplicitDeny'],
    ['NumericLessThan', '9', 'Allow'],
    ['NumericLessThan', '10', 'ImplicitDeny'],
    ['NumericGreaterThan', '11', 'Allow'],
    ['NumericGreaterThan', '10', 'ImplicitDeny'],
    ['NumericGreaterThanEquals', '10', 'Allow'],
    ['NumericGreaterThanEquals', '9', 'ImplicitDeny'],
  ])('%s 10 with %s keys → %s', (operator, keys, decision) => {
    expect(evaluatePolicy(upToTen(operator), listing({ 's3:max-keys': keys }))).toBe(decision);
  });
  it('NumericNotEquals holds on a missing key (negated)', () => {
    expect(evaluatePolicy(upToTen('NumericNotEquals'), listing({}))).toBe('Allow');
  });
  it('refuses a request value that is not a number', () => {
    expect(() => evaluatePolicy(upToTen(), listing({ 's3:max-keys': 'ten' }))).toThrow(/needs a number/);
  });
});

describe('ForAnyValue and ForAllValues', () => {
  // [operators] "Example using ForAnyValue with a string condition operator", its whole table.
  const tagging: PolicyDocument = {
    Version: VERSION,
    Statement: {
      Effect: 'Allow',
      Action: 'ec2:CreateTags',
      Resource: 'arn:aws:ec2:*:*:instance/*',
      Condition: {
        StringEqualsIgnoreCase: { 'aws:RequestTag/environment': ['preprod', 'storage'] },
        'ForAnyValue:StringEquals': { 'aws:TagKeys': 'environment' },
      },
    },
  };
  it.each<[string, AuthorizationRequest['context'], string]>([
    ['environment=preprod', { 'aws:TagKeys': ['environment'], 'aws:RequestTag/environment': 'preprod' }, 'Allow'],
    [
      'environment=PreProd with costcenter',
      { 'aws:TagKeys': ['environment', 'costcenter'], 'aws:RequestTag/environment': 'PreProd' },
      'Allow',
    ],
    [
      'Environment (tag key case differs)',
      { 'aws:TagKeys': ['Environment'], 'aws:RequestTag/Environment': 'preprod' },
      'ImplicitDeny',
    ],
    ['costcenter only', { 'aws:TagKeys': ['costcenter'], 'aws:RequestTag/environment': 'preprod' }, 'ImplicitDeny'],
    ['no aws:TagKeys (ForAnyValue on a missing key)', { 'aws:RequestTag/environment': 'storage' }, 'ImplicitDeny'],
    ['no aws:RequestTag/environment', { 'aws:TagKeys': ['environment'] }, 'ImplicitDeny'],
    ['neither key', {}, 'ImplicitDeny'],
  ])('%s → %s', (_case, context, decision) => {
    expect(
      evaluatePolicy(tagging, request('ec2:CreateTags', `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-0abc`, context)),
    ).toBe(decision);
  });

  // [operators] "Example using ForAllValues with an ARN condition operator".
  const deliverySource: PolicyDocument = {
    Version: VERSION,
    Statement: [
      {
        Effect: 'Allow',
        Principal: '*',
        Action: 'logs:PutDeliverySource',
        Resource: 'arn:aws:logs:us-east-1:123456789012:delivery-source:*',
        Condition: {
          'ForAllValues:ArnLike': {
            'logs:LogGeneratingResourceArns': [
              'arn:aws:cloudfront::123456789012:distribution/*',
              'arn:aws:cloudfront::123456789012:distribution/support*',
            ],
          },
        },
      },
    ],
  };
  const put = (context: AuthorizationRequest['context']) =>
    request(
      'logs:PutDeliverySource',
      'arn:aws:logs:us-east-1:123456789012:delivery-source:cdn',
      context,
      user('writer', '123456789012'),
    );
  const KEY = 'logs:LogGeneratingResourceArns';
  const DIST = 'arn:aws:cloudfront::123456789012:distribution';

  it('ForAllValues allows when every request value matches, and on a missing or empty key', () => {
    expect(evaluatePolicy(deliverySource, put({ [KEY]: [`${DIST}/costcenter`] }))).toBe('Allow');
    expect(evaluatePolicy(deliverySource, put({ [KEY]: [`${DIST}/costcenter`, `${DIST}/support2025`] }))).toBe('Allow');
    // The doc's table says "No match" for costcenter + admin, yet distribution/* covers admin by the
    // operator's own definition: we follow the definition (and report the table).
    expect(evaluatePolicy(deliverySource, put({ [KEY]: [`${DIST}/costcenter`, `${DIST}/admin`] }))).toBe('Allow');
    expect(evaluatePolicy(deliverySource, put({}))).toBe('Allow');
    expect(evaluatePolicy(deliverySource, put({ [KEY]: [] }))).toBe('Allow');
    // "or if the context key value resolves to a null dataset, such as an empty string".
    expect(evaluatePolicy(deliverySource, put({ [KEY]: '' }))).toBe('Allow');
  });
  it('ForAllValues denies when one request value matches no policy value', () => {
    expect(
      evaluatePolicy(deliverySource, put({ [KEY]: ['arn:aws:cloudfront::777788889999:distribution/costcenter'] })),
    ).toBe('ImplicitDeny');
    expect(
      evaluatePolicy(
        deliverySource,
        put({ [KEY]: [`${DIST}/costcenter`, 'arn:aws:cloudfront::777788889999:distribution/x'] }),
      ),
    ).toBe('ImplicitDeny');
  });

  it('negated set operators: ForAllValues means none matches, ForAnyValue means one does not (ours)', () => {
    const policy = (operator: string): PolicyDocument => ({
      Statement: {
        Effect: 'Allow',
        Action: 'ec2:CreateTags',
        Resource: '*',
        Condition: { [operator]: { 'aws:TagKeys': ['secret', 'owner'] } },
      },
    });
    const tag = (keys: AuthorizationRequest['context'][string]) =>
      request('ec2:CreateTags', `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-0abc`, { 'aws:TagKeys': keys });
    expect(evaluatePolicy(policy('ForAllValues:StringNotEquals'), tag(['env', 'team']))).toBe('Allow');
    expect(evaluatePolicy(policy('ForAllValues:StringNotEquals'), tag(['env', 'owner']))).toBe('ImplicitDeny');
    expect(evaluatePolicy(policy('ForAllValues:StringNotEquals'), tag(undefined))).toBe('Allow');
    expect(evaluatePolicy(policy('ForAnyValue:StringNotEquals'), tag(['env', 'owner']))).toBe('Allow');
    expect(evaluatePolicy(policy('ForAnyValue:StringNotEquals'), tag(['owner', 'secret']))).toBe('ImplicitDeny');
    expect(evaluatePolicy(policy('ForAnyValue:StringNotEquals'), tag(undefined))).toBe('ImplicitDeny');
    expect(evaluatePolicy(policy('ForAnyValue:StringEqualsIfExists'), tag(undefined))).toBe('Allow');
  });

  it('a Deny with ForAllValues:StringNotLike applies on a missing key ([operators] Wildcard matching example)', () => {
    // The multivalued page: ForAllValues "also returns true if there are no context keys in the
    // request". The operators page's table for this Deny reads "No match" on the missing key, which
    // matches the request's outcome (denied), not the condition: we follow the rule.
    const boundary: PolicyDocument = {
      Version: VERSION,
      Statement: [
        { Effect: 'Allow', Action: 's3:*', Resource: '*' },
        {
          Sid: 'DenyS3AccessOutsideMyBoundary',
          Effect: 'Deny',
          Action: ['s3:*'],
          Resource: '*',
          Condition: {
            'ForAllValues:StringNotLike': {
              'aws:ResourceOrgPaths': ['o-acorg/r-acroot/ou-acroot-mediaou/', 'o-acorg/r-acroot/ou-acroot-sportsou/*'],
            },
          },
        },
      ],
    };
    const get = (paths?: string[]) =>
      request('s3:GetObject', 'arn:aws:s3:::b/k', paths === undefined ? {} : { 'aws:ResourceOrgPaths': paths });
    expect(evaluatePolicy(boundary, get(['o-acorg/r-acroot/ou-acroot-sportsou/costcenter/']))).toBe('Allow');
    expect(evaluatePolicy(boundary, get(['o-acorg/r-acroot/ou-acroot-mediaou/costcenter/']))).toBe('ExplicitDeny');
    expect(evaluatePolicy(boundary, get())).toBe('ExplicitDeny');
  });

  it('refuses a single-valued operator on a multivalued key', () => {
    const policy: PolicyDocument = {
      Statement: {
        Effect: 'Allow',
        Action: 'ec2:CreateTags',
        Resource: '*',
        Condition: { StringEquals: { 'aws:TagKeys': 'env' } },
      },
    };
    expect(() =>
      evaluatePolicy(
        policy,
        request('ec2:CreateTags', `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-0abc`, {
          'aws:TagKeys': ['env', 'team'],
        }),
      ),
    ).toThrow(/single-valued.*ForAnyValue: or ForAllValues:/);
    // One value is fine.
    expect(
      evaluatePolicy(
        policy,
        request('ec2:CreateTags', `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-0abc`, { 'aws:TagKeys': ['env'] }),
      ),
    ).toBe('Allow');
  });
});

describe('Principal (resource-based policies, [principal])', () => {
  const grant = (principal: unknown): PolicyDocument => ({
    Version: VERSION,
    Statement: { Effect: 'Allow', Principal: principal, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' },
  });
  const get = (principal: Principal) => request('s3:GetObject', 'arn:aws:s3:::b/k', {}, principal);

  it.each<[string, unknown, Principal, string]>([
    ['"*" matches anyone', '*', user('alice'), 'Allow'],
    ['{ AWS: "*" } matches anyone', { AWS: '*' }, session('r', 's'), 'Allow'],
    ['an account id matches its users', { AWS: ACCOUNT }, user('alice'), 'Allow'],
    [
      'an account root ARN matches its role sessions',
      { AWS: `arn:aws:iam::${ACCOUNT}:root` },
      session('r', 's'),
      'Allow',
    ],
    ['an account does not match another account', { AWS: ACCOUNT }, user('alice', '444455556666'), 'ImplicitDeny'],
    [
      'a role ARN matches its sessions (the path is not in the session ARN)',
      { AWS: `arn:aws:iam::${ACCOUNT}:role/app/Deployer` },
      session('Deployer', 'ci'),
      'Allow',
    ],
    [
      "a role ARN does not match another role's sessions",
      { AWS: `arn:aws:iam::${ACCOUNT}:role/Deployer` },
      session('Reader', 'ci'),
      'ImplicitDeny',
    ],
    [
      'a user ARN matches that user',
      { AWS: [`arn:aws:iam::${ACCOUNT}:user/bob`, `arn:aws:iam::${ACCOUNT}:user/alice`] },
      user('alice'),
      'Allow',
    ],
    [
      'a user ARN does not match another user',
      { AWS: `arn:aws:iam::${ACCOUNT}:user/bob` },
      user('alice'),
      'ImplicitDeny',
    ],
    [
      'a session ARN matches only that session',
      { AWS: `arn:aws:sts::${ACCOUNT}:assumed-role/r/s1` },
      session('r', 's2'),
      'ImplicitDeny',
    ],
    [
      'a service matches that service',
      { Service: 'ecs-tasks.amazonaws.com' },
      { type: 'Service', id: 'ecs-tasks.amazonaws.com' },
      'Allow',
    ],
    [
      'a service does not match another',
      { Service: 'ecs-tasks.amazonaws.com' },
      { type: 'Service', id: 'lambda.amazonaws.com' },
      'ImplicitDeny',
    ],
    [
      'an AWS principal does not match a service',
      { AWS: ACCOUNT },
      { type: 'Service', id: 'ecs-tasks.amazonaws.com' },
      'ImplicitDeny',
    ],
    [
      'a Federated reference matches by deep equality',
      { Federated: { Ref: 'Provider' } },
      { type: 'Federated', id: { Ref: 'Provider' } },
      'Allow',
    ],
    [
      'a Federated reference does not match another',
      { Federated: { Ref: 'Provider' } },
      { type: 'Federated', id: { Ref: 'Other' } },
      'ImplicitDeny',
    ],
  ])('%s', (_case, principal, caller, decision) => {
    expect(evaluatePolicy(grant(principal), get(caller))).toBe(decision);
  });

  it('refuses NotPrincipal', () => {
    const policy: PolicyDocument = {
      Statement: {
        Effect: 'Deny',
        NotPrincipal: { AWS: `arn:aws:iam::${ACCOUNT}:user/alice` },
        Action: 's3:*',
        Resource: '*',
      },
    };
    expect(() => evaluatePolicy(policy, get(user('alice')))).toThrow(/NotPrincipal is not supported/);
  });
  it('refuses a wildcard inside a principal ARN, a literal compared with an expression, and a missing principal', () => {
    expect(() => evaluatePolicy(grant({ AWS: `arn:aws:iam::${ACCOUNT}:user/*` }), get(user('alice')))).toThrow(
      /wildcard/,
    );
    expect(() =>
      evaluatePolicy(
        grant({ Federated: 'arn:aws:iam::1:oidc-provider/x' }),
        get({ type: 'Federated', id: { Ref: 'P' } }),
      ),
    ).toThrow(/literal and the other an expression/);
    expect(() => evaluatePolicy(grant('*'), request('s3:GetObject', 'arn:aws:s3:::b/k'))).toThrow(/needs a principal/);
  });
});

describe('authorize: identity policies and permissions boundaries ([boundaries] Shirley)', () => {
  const boundary: PolicyDocument = {
    name: 'the ShirleyBoundary',
    Version: VERSION,
    Statement: [{ Effect: 'Allow', Action: ['s3:*', 'cloudwatch:*', 'ec2:*'], Resource: '*' }],
  };
  const createUser: PolicyDocument = {
    name: 'CreateUserPolicy',
    Version: VERSION,
    Statement: { Effect: 'Allow', Action: 'iam:CreateUser', Resource: '*' },
  };
  const s3Read: PolicyDocument = {
    name: 'S3Read',
    Version: VERSION,
    Statement: { Sid: 'Read', Effect: 'Allow', Action: 's3:GetObject', Resource: '*' },
  };
  const shirley = user('ShirleyRodriguez');

  it('the boundary blocks an action the identity policy allows', () => {
    const result = authorize({
      identityPolicies: [createUser],
      permissionsBoundary: boundary,
      request: request('iam:CreateUser', `arn:aws:iam::${ACCOUNT}:user/new`, {}, shirley),
    });
    expect(result).toEqual({
      decision: 'ImplicitDeny',
      reason:
        `iam:CreateUser on arn:aws:iam::${ACCOUNT}:user/new: statement Statement[0] of CreateUserPolicy allows it ` +
        'but the ShirleyBoundary does not (a boundary grants nothing; it only caps identity policies)',
    });
  });
  it('the boundary allows but grants nothing: the identity policy must allow too', () => {
    const result = authorize({
      identityPolicies: [createUser],
      permissionsBoundary: boundary,
      request: request('s3:GetObject', 'arn:aws:s3:::b/k', {}, shirley),
    });
    expect(result).toEqual({
      decision: 'ImplicitDeny',
      reason: 's3:GetObject on arn:aws:s3:::b/k: no statement of the identity policies allows it',
    });
  });
  it('allows what both allow, any identity policy sufficing', () => {
    const result = authorize({
      identityPolicies: [createUser, s3Read],
      permissionsBoundary: boundary,
      request: request('s3:GetObject', 'arn:aws:s3:::b/k', {}, shirley),
    });
    expect(result).toEqual({
      decision: 'Allow',
      reason: 's3:GetObject on arn:aws:s3:::b/k: allowed by statement "Read" of S3Read within the ShirleyBoundary',
    });
  });
  it('an explicit deny in the boundary wins, naming the statement and the policy', () => {
    const result = authorize({
      identityPolicies: [{ Statement: { Effect: 'Allow', Action: 's3:*', Resource: '*' } }],
      permissionsBoundary: { ...X_COMPANY_BOUNDARIES, name: 'XCompanyBoundaries' },
      request: request('s3:PutObject', 'arn:aws:s3:::logs/x', {}, user('new-hire')),
    });
    expect(result).toEqual({
      decision: 'ExplicitDeny',
      reason: 's3:PutObject on arn:aws:s3:::logs/x: explicitly denied by statement "DenyS3Logs" of XCompanyBoundaries',
    });
  });
  it('says why with no policy at all (the example reason of the brief)', () => {
    expect(
      authorize({
        identityPolicies: [createUser],
        request: request('iam:CreatePolicy', `arn:aws:iam::${ACCOUNT}:policy/x`),
      }),
    ).toEqual({
      decision: 'ImplicitDeny',
      reason: `iam:CreatePolicy on arn:aws:iam::${ACCOUNT}:policy/x: no statement of the identity policies allows it`,
    });
  });
});

describe('authorize: resource-based policies in one account ([deny-allow])', () => {
  const bucketPolicy = (principal: unknown): PolicyDocument => ({
    name: 'the bucket policy',
    Version: VERSION,
    Statement: {
      Sid: 'Grant',
      Effect: 'Allow',
      Principal: principal,
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::b/*',
    },
  });
  const narrowBoundary: PolicyDocument = {
    Statement: { Effect: 'Allow', Action: 'sts:GetCallerIdentity', Resource: '*' },
  };
  const get = (principal: Principal) => request('s3:GetObject', 'arn:aws:s3:::b/k', {}, principal);

  it('a grant to the user ARN needs no identity policy and is not limited by the boundary', () => {
    const result = authorize({
      identityPolicies: [],
      permissionsBoundary: narrowBoundary,
      resourcePolicy: bucketPolicy({ AWS: `arn:aws:iam::${ACCOUNT}:user/alice` }),
      request: get(user('alice')),
    });
    expect(result.decision).toBe('Allow');
    expect(result.reason).toMatch(/statement "Grant" of the bucket policy, which names the requester directly/);
  });
  it('a grant to the role session ARN is not limited by the boundary either', () => {
    expect(
      authorize({
        identityPolicies: [],
        permissionsBoundary: narrowBoundary,
        resourcePolicy: bucketPolicy({ AWS: `arn:aws:sts::${ACCOUNT}:assumed-role/App/job-1` }),
        request: get(session('App', 'job-1')),
      }).decision,
    ).toBe('Allow');
  });
  it('a grant to the role ARN is limited by the boundary, though it needs no identity policy', () => {
    const resourcePolicy = bucketPolicy({ AWS: `arn:aws:iam::${ACCOUNT}:role/App` });
    expect(authorize({ identityPolicies: [], resourcePolicy, request: get(session('App', 'job-1')) }).decision).toBe(
      'Allow',
    );
    const limited = authorize({
      identityPolicies: [],
      permissionsBoundary: narrowBoundary,
      resourcePolicy,
      request: get(session('App', 'job-1')),
    });
    expect(limited.decision).toBe('ImplicitDeny');
    expect(limited.reason).toMatch(/names the role, and AWS limits such a grant by the permissions boundary/);
  });
  it('a grant to the account delegates to identity policies', () => {
    const resourcePolicy = bucketPolicy({ AWS: ACCOUNT });
    const readAll: PolicyDocument = { Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' } };
    expect(authorize({ identityPolicies: [], resourcePolicy, request: get(user('alice')) }).decision).toBe(
      'ImplicitDeny',
    );
    expect(authorize({ identityPolicies: [readAll], resourcePolicy, request: get(user('alice')) }).decision).toBe(
      'Allow',
    );
  });
  it('identity policies alone suffice for an ordinary resource, and a Deny in the resource policy wins', () => {
    const readAll: PolicyDocument = { Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' } };
    expect(
      authorize({
        identityPolicies: [readAll],
        resourcePolicy: bucketPolicy({ AWS: `arn:aws:iam::${ACCOUNT}:user/bob` }),
        request: get(user('alice')),
      }).decision,
    ).toBe('Allow');
    const denyAlice: PolicyDocument = {
      Statement: {
        Sid: 'NoAlice',
        Effect: 'Deny',
        Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/alice` },
        Action: 's3:*',
        Resource: '*',
      },
    };
    expect(authorize({ identityPolicies: [readAll], resourcePolicy: denyAlice, request: get(user('alice')) })).toEqual({
      decision: 'ExplicitDeny',
      reason: 's3:GetObject on arn:aws:s3:::b/k: explicitly denied by statement "NoAlice" of the resource policy',
    });
  });
  it('refuses cross-account requests and a CloudFormation expression in Resource', () => {
    expect(() =>
      authorize({
        identityPolicies: [],
        request: request('sqs:SendMessage', `arn:aws:sqs:us-east-1:${ACCOUNT}:q`, {}, user('x', '444455556666')),
      }),
    ).toThrow(/cross-account/);
    const templated = {
      Statement: {
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: { 'Fn::Join': ['', ['arn:aws:s3:::', { Ref: 'B' }]] },
      },
    } as unknown as PolicyDocument;
    expect(() => evaluatePolicy(templated, get(user('alice')))).toThrow(
      /CloudFormation expression cannot be evaluated/,
    );
  });
});

describe('authorize: a role trust policy ([assume-role], [deny-allow])', () => {
  const ROLE = `arn:aws:iam::${ACCOUNT}:role/Deployer`;
  const trust = (principal: unknown): PolicyDocument => ({
    Version: VERSION,
    Statement: { Sid: 'Trust', Effect: 'Allow', Principal: principal, Action: 'sts:AssumeRole' },
  });
  const mayAssume: PolicyDocument = {
    name: 'AssumeDeployer',
    Statement: { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: ROLE },
  };
  const assume = (principal: Principal) => request('sts:AssumeRole', ROLE, {}, principal);
  const alice = user('alice');

  it('a trust naming the account root needs the identity policy too', () => {
    const resourcePolicy = trust({ AWS: `arn:aws:iam::${ACCOUNT}:root` });
    const without = authorize({ identityPolicies: [], resourcePolicy, request: assume(alice) });
    expect(without.decision).toBe('ImplicitDeny');
    expect(without.reason).toBe(
      `sts:AssumeRole on ${ROLE}: no statement of the identity policies allows it; statement "Trust" of the trust ` +
        'policy trusts the account, which delegates to its identity policies',
    );
    expect(authorize({ identityPolicies: [mayAssume], resourcePolicy, request: assume(alice) }).decision).toBe('Allow');
    // The short account form behaves the same [principal].
    expect(
      authorize({ identityPolicies: [], resourcePolicy: trust({ AWS: ACCOUNT }), request: assume(alice) }).decision,
    ).toBe('ImplicitDeny');
  });
  it('a trust naming the user ARN suffices on its own', () => {
    expect(
      authorize({
        identityPolicies: [],
        resourcePolicy: trust({ AWS: `arn:aws:iam::${ACCOUNT}:user/alice` }),
        request: assume(alice),
      }).decision,
    ).toBe('Allow');
  });
  it('a trust naming another role ARN suffices for its sessions, within their boundary', () => {
    const resourcePolicy = trust({ AWS: `arn:aws:iam::${ACCOUNT}:role/Pipeline` });
    const pipeline = session('Pipeline', 'run-7');
    expect(authorize({ identityPolicies: [], resourcePolicy, request: assume(pipeline) }).decision).toBe('Allow');
    expect(
      authorize({
        identityPolicies: [],
        permissionsBoundary: { Statement: { Effect: 'Allow', Action: 's3:*', Resource: '*' } },
        resourcePolicy,
        request: assume(pipeline),
      }).decision,
    ).toBe('ImplicitDeny');
  });
  it('an identity policy alone never suffices: the trust policy must allow the principal', () => {
    const result = authorize({
      identityPolicies: [mayAssume],
      resourcePolicy: trust({ AWS: `arn:aws:iam::${ACCOUNT}:user/bob` }),
      request: assume(alice),
    });
    expect(result).toEqual({
      decision: 'ImplicitDeny',
      reason: `sts:AssumeRole on ${ROLE}: no statement of the trust policy allows this principal, and AWS requires the trust policy to allow it`,
    });
  });
  it('a service principal in the trust policy', () => {
    const resourcePolicy = trust({ Service: 'ecs-tasks.amazonaws.com' });
    expect(
      authorize({
        identityPolicies: [],
        resourcePolicy,
        request: assume({ type: 'Service', id: 'ecs-tasks.amazonaws.com' }),
      }).decision,
    ).toBe('Allow');
    expect(
      authorize({ identityPolicies: [], resourcePolicy, request: assume({ type: 'Service', id: 'ec2.amazonaws.com' }) })
        .decision,
    ).toBe('ImplicitDeny');
  });
  it('refuses to decide an assume-role request without the trust policy', () => {
    expect(() => authorize({ identityPolicies: [mayAssume], request: assume(alice) })).toThrow(
      /pass it as resourcePolicy/,
    );
  });
});

describe('what the evaluator refuses', () => {
  const withCondition = (condition: Record<string, Record<string, unknown>>): PolicyDocument => ({
    Version: VERSION,
    Statement: { Effect: 'Allow', Action: '*', Resource: '*', Condition: condition },
  });
  const any = request('s3:GetObject', 'arn:aws:s3:::b/k', { 'aws:SourceIp': '203.0.113.1' });

  it('throws on an unknown operator, whatever the request', () => {
    expect(() => evaluatePolicy(withCondition({ StringEqualz: { 'aws:SourceIp': 'x' } }), any)).toThrow(
      /"StringEqualz" is not an IAM condition operator/,
    );
    const notApplicable: PolicyDocument = {
      Statement: { Effect: 'Allow', Action: 'ec2:*', Resource: '*', Condition: { Frobnicate: { k: 'v' } } },
    };
    expect(() => evaluatePolicy(notApplicable, any)).toThrow(PolicyEvaluationError);
  });
  it('throws on operators it does not implement, and on malformed ones', () => {
    expect(() => evaluatePolicy(withCondition({ IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }), any)).toThrow(
      /IpAddress is not supported by this evaluator/,
    );
    expect(() =>
      evaluatePolicy(withCondition({ DateLessThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' } }), any),
    ).toThrow(/not supported/);
    expect(() => evaluatePolicy(withCondition({ NullIfExists: { k: 'true' } }), any)).toThrow(/Null takes no IfExists/);
  });
  it('throws on an unknown element, which could otherwise silently widen an Allow', () => {
    const typo = {
      Statement: {
        Effect: 'Allow',
        Action: '*',
        Resource: '*',
        Conditions: { Bool: { 'aws:SecureTransport': 'true' } },
      },
    } as unknown as PolicyDocument;
    expect(() => evaluatePolicy(typo, any)).toThrow(/unknown element "Conditions"/);
  });
  it('throws on a variable where AWS allows none', () => {
    const early: PolicyDocument = {
      Version: VERSION,
      Statement: { Effect: 'Allow', Action: '*', Resource: 'arn:aws:s3:${aws:PrincipalTag/region}::b/*' },
    };
    expect(() => evaluatePolicy(early, any)).toThrow(/before the fifth colon/);
    expect(() => evaluatePolicy(withCondition({ Bool: { 'aws:SecureTransport': '${aws:x}' } }), any)).toThrow(
      /expected "true" or "false"/,
    );
  });
  it('throws on a malformed request', () => {
    const policy = withCondition({});
    expect(() => evaluatePolicy(policy, request('s3:Get*', '*'))).toThrow(/without wildcards/);
    expect(() => evaluatePolicy(policy, request('s3:GetObject', 'b/k'))).toThrow(/an ARN or "\*"/);
  });
});

describe('globMatch', () => {
  it.each([
    ['a*c', 'abbbc', false, true],
    ['a*c', 'ac', false, true],
    ['a?c', 'abc', false, true],
    ['a?c', 'abbc', false, false],
    ['a.c', 'abc', false, false],
    ['repo:o/r:*', 'repo:o/r:x:y', false, true],
    ['S3:Get*', 's3:GetObject', true, true],
    ['S3:Get*', 's3:GetObject', false, false],
  ])('%s ~ %s (ignoreCase %s) = %s', (pattern, value, ignoreCase, expected) => {
    expect(globMatch(pattern, value, ignoreCase)).toBe(expected);
  });
});
