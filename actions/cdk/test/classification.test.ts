import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fullDiff } from '@aws-cdk/cloudformation-diff';
import { App } from 'aws-cdk-lib';
import { addEnvironments } from '../../../infra/lib/build-app.js';
import { cdkJsonContext } from '../../../infra/lib/cdk-json.js';
import { ENVIRONMENTS } from '../../../infra/lib/project.js';
import { environment } from '../../../infra/test/helpers/app.js';
import { analyzeStack } from '../src/analyze.js';
import { classifyRemoval, REMOVAL_CLASSIFICATION, UNKNOWN_TYPE } from '../src/classification.js';

const SECURITY_MD = fileURLToPath(new URL('../../../docs/security.md', import.meta.url));
const START = '<!-- destructive-classification:start -->';
const END = '<!-- destructive-classification:end -->';
/** The table's last row: what every type not in the table is. */
const OTHER_TYPES = 'any other type';

interface Row {
  readonly type: string;
  readonly class: string;
  readonly reason: string;
}

/** The rows of the one pipe table between the markers of docs/security.md, cells as plain text. */
function documentedRows(markdown: string): Row[] {
  const start = markdown.indexOf(START);
  const end = markdown.indexOf(END);
  if (start < 0 || end < start) throw new Error(`docs/security.md has no ${START} ... ${END} section`);
  const lines = markdown
    .slice(start + START.length, end)
    .split('\n')
    .filter((line) => line.startsWith('|'));
  const cells = (line: string): string[] =>
    line
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((cell) => cell.trim().replace(/^`(.*)`$/, '$1'));
  const [header, separator, ...body] = lines;
  expect(header && cells(header)).toEqual(['resource type', 'removal or replacement is', 'why']);
  expect(separator).toMatch(/^\|[\s|:-]+\|$/);
  return body.map((line) => {
    const [type = '', cls = '', reason = '', ...extra] = cells(line);
    expect(extra).toEqual([]);
    return { type, class: cls, reason };
  });
}

/** The table as the code holds it, in the page's order: the known types, then every other type. */
function codeRows(): Row[] {
  return [
    ...Object.entries(REMOVAL_CLASSIFICATION).map(([type, c]) => ({ type, class: c.class, reason: c.reason })),
    { type: OTHER_TYPES, class: UNKNOWN_TYPE.class, reason: UNKNOWN_TYPE.reason },
  ];
}

/** The section as it should read, printed when the page and the code disagree. */
function expectedSection(): string {
  return [
    START,
    '',
    '| resource type | removal or replacement is | why |',
    '| --- | --- | --- |',
    ...codeRows().map(
      (row) => `| ${row.type === OTHER_TYPES ? row.type : `\`${row.type}\``} | ${row.class} | ${row.reason} |`,
    ),
    '',
    END,
  ].join('\n');
}

describe('what the diff comment calls destructive', () => {
  it('docs/security.md shows the same table as classification.ts', () => {
    const documented = documentedRows(readFileSync(SECURITY_MD, 'utf8'));
    if (JSON.stringify(documented) !== JSON.stringify(codeRows())) {
      throw new Error(
        `docs/security.md disagrees with actions/cdk/src/classification.ts. Paste this section, then run ` +
          `npx prettier --write docs/security.md:\n\n${expectedSection()}\n`,
      );
    }
    expect(documented).toEqual(codeRows());
  });

  it('classifies every resource type the app synthesizes (so none falls to the default unseen)', () => {
    const app = new App({ context: cdkJsonContext() });
    // Every option that adds resources, on: the debug endpoints.
    addEnvironments(app, [environment(ENVIRONMENTS[0]!.name, { ec2DebugEndpoints: true })]);
    const types = new Set<string>();
    for (const stack of app.synth().stacks) {
      const resources = (stack.template as { Resources?: Record<string, { Type: string }> }).Resources ?? {};
      for (const resource of Object.values(resources)) types.add(resource.Type);
    }
    types.delete('AWS::CDK::Metadata');
    expect([...types].filter((type) => !(type in REMOVAL_CLASSIFICATION)).sort()).toEqual([]);
  });

  it('a task definition is routine; stateful and shared types are destructive', () => {
    expect(classifyRemoval('AWS::ECS::TaskDefinition').class).toBe('routine');
    for (const type of [
      'AWS::EC2::VPC',
      'AWS::EC2::Subnet',
      'AWS::Logs::LogGroup',
      'AWS::KMS::Key',
      'AWS::IAM::OIDCProvider',
      'AWS::IAM::Role',
      'AWS::ECR::PullThroughCacheRule',
    ]) {
      expect([type, classifyRemoval(type).class]).toEqual([type, 'destructive']);
    }
  });

  it('an unknown type is destructive, also one named like an object property', () => {
    for (const type of ['AWS::RDS::DBInstance', 'Custom::Anything', 'constructor', '__proto__', 'toString']) {
      expect(classifyRemoval(type)).toBe(UNKNOWN_TYPE);
    }
  });

  it('the analysis marks routine removals with their reason and lists the destructive ones with theirs', () => {
    const before = {
      Resources: {
        Policy: { Type: 'AWS::IAM::Policy', Properties: { PolicyName: 'p', PolicyDocument: { Statement: [] } } },
        Logs: { Type: 'AWS::Logs::LogGroup', Properties: {} },
        Db: { Type: 'AWS::RDS::DBInstance', Properties: {} },
      },
    };
    const stack = analyzeStack('s', fullDiff(before, { Resources: {} }));
    expect(stack.rows.find((row) => row.logicalId === 'Policy')).toMatchObject({
      action: 'remove',
      routine: classifyRemoval('AWS::IAM::Policy').reason,
    });
    expect(stack.destructive).toEqual([
      expect.objectContaining({
        logicalId: 'Logs',
        kind: 'removal',
        reason: classifyRemoval('AWS::Logs::LogGroup').reason,
      }),
      expect.objectContaining({ logicalId: 'Db', kind: 'removal', reason: UNKNOWN_TYPE.reason }),
    ]);
  });
});
