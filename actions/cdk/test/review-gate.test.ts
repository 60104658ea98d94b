import {
  fingerprintId,
  fingerprintOf,
  formatFingerprint,
  NOT_DEPLOYED,
  parseFingerprint,
  templateHash,
} from '../src/fingerprint.js';
import { decideDeploy, type GateInput, type ReviewEvidence } from '../src/review-gate.js';

const TEMPLATE = { Resources: { Vpc: { Type: 'AWS::EC2::VPC', Properties: { CidrBlock: '10.0.0.0/22' } } } };
const CHANGED = { Resources: { Vpc: { Type: 'AWS::EC2::VPC', Properties: { CidrBlock: '10.0.4.0/22' } } } };
const LABEL = 'allow-destructive-change';

/** A merged pull request whose diff comment recorded `reviewed`. */
function evidence(overrides: Partial<ReviewEvidence> = {}): ReviewEvidence {
  return {
    number: 7,
    author: 'alice',
    headSha: 'a'.repeat(40),
    labels: [],
    lastCommitAt: '2026-12-01T10:00:00Z',
    labelEvents: [],
    reviewed: fingerprintOf('env1', 'a'.repeat(40), [{ stack: 'env1-network', template: CHANGED, deployed: TEMPLATE }]),
    ...overrides,
  };
}

function input(overrides: Partial<GateInput> = {}): GateInput {
  return {
    environment: 'env1',
    commit: 'b'.repeat(40),
    current: fingerprintOf('env1', 'b'.repeat(40), [{ stack: 'env1-network', template: CHANGED, deployed: TEMPLATE }]),
    destructive: [],
    allowLabel: LABEL,
    evidence: evidence(),
    ...overrides,
  };
}

describe('fingerprints', () => {
  it('hash templates canonically: key order does not matter, content does', () => {
    expect(templateHash({ a: 1, b: { c: 2, d: 3 } })).toBe(templateHash({ b: { d: 3, c: 2 }, a: 1 }));
    expect(templateHash(TEMPLATE)).not.toBe(templateHash(CHANGED));
  });

  it('round-trip through the hidden line of the comment, and only for their environment', () => {
    const fingerprint = fingerprintOf('env1', 'c'.repeat(40), [
      { stack: 'env1-service', template: TEMPLATE, deployed: undefined },
      { stack: 'env1-network', template: CHANGED, deployed: TEMPLATE },
    ]);
    const body = `intro\n${formatFingerprint(fingerprint)}\nmore`;
    expect(parseFingerprint(body, 'env1')).toEqual(fingerprint);
    expect(parseFingerprint(body, 'env2')).toBeUndefined();
    expect(fingerprint.stacks.find((s) => s.stack === 'env1-service')?.base).toBe(NOT_DEPLOYED);
  });

  it('ignore a malformed or tampered line', () => {
    expect(
      parseFingerprint(
        '<!-- private-aws-gitops:reviewed {"environment":"env1","commit":"x","stacks":[{"stack":"s","head":"zz","base":"none"}]} -->',
        'env1',
      ),
    ).toBeUndefined();
    expect(parseFingerprint('<!-- private-aws-gitops:reviewed {not json} -->', 'env1')).toBeUndefined();
  });
});

describe('the review gate of a deploy', () => {
  it('deploys the change that was reviewed', () => {
    expect(decideDeploy(input())).toMatchObject({
      allowed: true,
      reasons: [expect.stringContaining('reviewed on #7')],
    });
  });

  it('deploys when nothing changes, whatever the evidence', () => {
    const same = fingerprintOf('env1', 'b', [{ stack: 'env1-network', template: TEMPLATE, deployed: TEMPLATE }]);
    expect(decideDeploy(input({ current: same, evidence: undefined })).allowed).toBe(true);
  });

  it.each([
    ['a commit that reached main without a pull request', { evidence: undefined }, /without a pull request/],
    [
      'a pull request with no comment by the workflow',
      { evidence: evidence({ reviewed: undefined }) },
      /no diff comment of env1 written by the workflow/,
    ],
    [
      'a stale pull request (another merge changed the template)',
      {
        current: fingerprintOf('env1', 'b', [
          { stack: 'env1-network', template: { ...CHANGED, Outputs: { X: { Value: 'y' } } }, deployed: TEMPLATE },
        ]),
      },
      /the template to deploy is [0-9a-f]{12}, the reviewed one [0-9a-f]{12}/,
    ],
    [
      'drift or another deploy since the review',
      {
        current: fingerprintOf('env1', 'b', [
          { stack: 'env1-network', template: CHANGED, deployed: { Resources: {} } },
        ]),
      },
      /what is deployed is [0-9a-f]{12}, the diff was against/,
    ],
  ])('refuses %s, saying how to get a fresh review', (_name, overrides, reason) => {
    const decision = decideDeploy(input(overrides as Partial<GateInput>));
    expect(decision.allowed).toBe(false);
    expect(decision.reasons.join(' ')).toMatch(reason);
    expect(decision.reasons.join(' ')).toContain('Nothing was deployed.');
    expect(decision.reasons.join(' ')).toContain(
      `reviewed-fingerprint=${fingerprintId(input(overrides as Partial<GateInput>).current)}`,
    );
  });

  const destructive = ['replacement of AWS::EC2::VPC Vpc (env1-network)'];
  const labeled = (actor: string, at: string) => ({ action: 'labeled' as const, label: LABEL, actor, at });

  it('refuses a destructive change merged without the label', () => {
    const decision = decideDeploy(input({ destructive }));
    expect(decision.allowed).toBe(false);
    expect(decision.reasons.join(' ')).toContain(`#7 was merged without the '${LABEL}' label`);
  });

  it("refuses the label when the pull request's author added it", () => {
    const decision = decideDeploy(
      input({
        destructive,
        evidence: evidence({ labels: [LABEL], labelEvents: [labeled('alice', '2026-12-01T11:00:00Z')] }),
      }),
    );
    expect(decision.allowed).toBe(false);
    expect(decision.reasons.join(' ')).toContain("added by alice, the pull request's author");
  });

  it('refuses the label when it was added before the last push', () => {
    const decision = decideDeploy(
      input({
        destructive,
        evidence: evidence({ labels: [LABEL], labelEvents: [labeled('bob', '2026-12-01T09:00:00Z')] }),
      }),
    );
    expect(decision.allowed).toBe(false);
    expect(decision.reasons.join(' ')).toContain('before the last push');
  });

  it('accepts the label added by another maintainer after the last push', () => {
    const decision = decideDeploy(
      input({
        destructive,
        evidence: evidence({
          labels: [LABEL],
          labelEvents: [
            labeled('alice', '2026-12-01T08:00:00Z'),
            { ...labeled('bot', '2026-12-01T10:00:00Z'), action: 'unlabeled' },
            labeled('bob', '2026-12-01T11:00:00Z'),
          ],
        }),
      }),
    );
    expect(decision).toMatchObject({ allowed: true, reasons: [expect.stringContaining('added by bob')] });
  });

  it('takes the hand-approved fingerprint as the one override, and only the exact one', () => {
    const id = fingerprintId(input().current);
    expect(decideDeploy(input({ evidence: undefined, approvedFingerprint: id })).allowed).toBe(true);
    const wrong = decideDeploy(input({ evidence: undefined, approvedFingerprint: '0000000000000000' }));
    expect(wrong.allowed).toBe(false);
    expect(wrong.reasons.join(' ')).toContain(`is not this deploy's (${id})`);
  });
});
