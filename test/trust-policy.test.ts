import {
  evaluate,
  gitHubWebIdentityRequest,
  globMatch,
  type PolicyDocument,
  type TrustRequest,
} from './helpers/trust-policy.js';
import { oidcProviderArn } from '../infra/lib/names.js';

// The evaluator's own cases: a made-up account (the provider is compared as an opaque principal).
const PROVIDER = oidcProviderArn('000011112222');
const trust = (
  condition: Record<string, Record<string, unknown>>,
  extra: Partial<PolicyDocument['Statement']> = {},
): PolicyDocument => ({
  Statement: [
    {
      Effect: 'Allow',
      Principal: { Federated: PROVIDER },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: condition,
      ...extra,
    },
  ],
});
const request = (sub: string, aud = 'sts.amazonaws.com'): TrustRequest =>
  gitHubWebIdentityRequest(PROVIDER, { sub, aud });
const SUB = 'token.actions.githubusercontent.com:sub';
const AUD = 'token.actions.githubusercontent.com:aud';

describe('trust policy evaluator: it must allow what IAM allows', () => {
  it('allows an exact StringEquals match of sub and aud', () => {
    expect(
      evaluate(
        trust({ StringEquals: { [AUD]: 'sts.amazonaws.com', [SUB]: 'repo:o/r:pull_request' } }),
        request('repo:o/r:pull_request'),
      ),
    ).toBe('Allow');
  });
  it('treats a list of values as any-of', () => {
    expect(evaluate(trust({ StringEquals: { [SUB]: ['repo:o/r:a', 'repo:o/r:b'] } }), request('repo:o/r:b'))).toBe(
      'Allow',
    );
  });
  it('matches StringLike wildcards', () => {
    expect(
      evaluate(trust({ StringLike: { [SUB]: 'repo:o/r:ref:refs/heads/*' } }), request('repo:o/r:ref:refs/heads/x')),
    ).toBe('Allow');
  });
  it('treats condition keys case-insensitively', () => {
    expect(
      evaluate(
        trust({ StringEquals: { 'TOKEN.actions.githubusercontent.com:SUB': 'repo:o/r:x' } }),
        request('repo:o/r:x'),
      ),
    ).toBe('Allow');
  });
  it('lets IfExists pass a missing key, and ForAnyValue match one of several values', () => {
    expect(evaluate(trust({ StringEqualsIfExists: { 'other:key': 'v' } }), request('s'))).toBe('Allow');
    const multi: TrustRequest = { ...request('s'), context: { ...request('s').context, 'x:tags': ['a', 'b'] } };
    expect(evaluate(trust({ 'ForAnyValue:StringEquals': { 'x:tags': 'b' } }), multi)).toBe('Allow');
  });
  it('matches action wildcards', () => {
    expect(evaluate(trust({}, { Action: 'sts:AssumeRole*' }), request('s'))).toBe('Allow');
  });
});

describe('trust policy evaluator: it must deny what IAM denies', () => {
  it('denies a different sub, a prefix of it, and a longer one', () => {
    const policy = trust({ StringEquals: { [SUB]: 'repo:o/r:ref:refs/heads/main' } });
    expect(evaluate(policy, request('repo:o/r:ref:refs/heads/dev'))).toBe('ImplicitDeny');
    expect(evaluate(policy, request('repo:o/r:ref:refs/heads/mai'))).toBe('ImplicitDeny');
    expect(evaluate(policy, request('repo:o/r:ref:refs/heads/main-evil'))).toBe('ImplicitDeny');
  });
  it('denies the wrong audience', () => {
    expect(
      evaluate(trust({ StringEquals: { [AUD]: 'sts.amazonaws.com' } }), request('s', 'https://github.com/o')),
    ).toBe('ImplicitDeny');
  });
  it('denies when a required key is missing', () => {
    expect(evaluate(trust({ StringEquals: { 'other:key': 'v' } }), request('s'))).toBe('ImplicitDeny');
    expect(evaluate(trust({ 'ForAnyValue:StringEquals': { 'other:key': 'v' } }), request('s'))).toBe('ImplicitDeny');
  });
  it('denies another principal or another action', () => {
    const policy = trust({});
    expect(
      evaluate(policy, { ...request('s'), principal: { type: 'Federated', id: 'arn:aws:iam::1:oidc-provider/evil' } }),
    ).toBe('ImplicitDeny');
    expect(evaluate(policy, { ...request('s'), action: 'sts:AssumeRole' })).toBe('ImplicitDeny');
  });
  it('lets an explicit Deny win over an Allow', () => {
    const policy: PolicyDocument = {
      Statement: [
        { Effect: 'Allow', Principal: { Federated: PROVIDER }, Action: 'sts:AssumeRoleWithWebIdentity' },
        { Effect: 'Deny', Principal: '*', Action: '*', Condition: { StringLike: { [SUB]: '*:pull_request' } } },
      ],
    };
    expect(evaluate(policy, request('repo:o/r:pull_request'))).toBe('ExplicitDeny');
    expect(evaluate(policy, request('repo:o/r:ref:refs/heads/main'))).toBe('Allow');
  });
  it('treats StringNotEquals on a missing key as a match, as IAM does', () => {
    expect(evaluate(trust({ StringNotEquals: { 'other:key': 'v' } }), request('s'))).toBe('Allow');
    expect(evaluate(trust({ StringNotEquals: { [SUB]: 's' } }), request('s'))).toBe('ImplicitDeny');
  });
  it('refuses an operator IAM does not have instead of guessing', () => {
    expect(() => evaluate(trust({ StringSimilar: { [SUB]: 'repo:o/r:*' } }), request('repo:o/r:x'))).toThrow(
      /StringSimilar.*is not an IAM condition operator/,
    );
  });
  it('evaluates the operators the full evaluator implements, not only the ones trust policies use today', () => {
    const numeric = (value: string): TrustRequest => ({
      ...request('s'),
      context: { ...request('s').context, 'x:n': value },
    });
    expect(evaluate(trust({ NumericLessThan: { 'x:n': '10' } }), numeric('9'))).toBe('Allow');
    expect(evaluate(trust({ NumericLessThan: { 'x:n': '10' } }), numeric('10'))).toBe('ImplicitDeny');
  });
  it('refuses a Resource element, which IAM rejects in a trust policy', () => {
    expect(() => evaluate(trust({}, { Resource: '*' }), request('s'))).toThrow(/no Resource or NotResource/);
  });
});

describe('globMatch', () => {
  it.each([
    ['a*c', 'abbbc', true],
    ['a?c', 'abc', true],
    ['a?c', 'abbc', false],
    ['repo:o/r:*', 'repo:o/r:x:y', true],
    ['a.c', 'abc', false],
  ])('%s ~ %s = %s', (pattern, value, expected) => {
    expect(globMatch(pattern, value)).toBe(expected);
  });
});
