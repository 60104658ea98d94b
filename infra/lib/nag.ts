import { Stack, Validations, type App } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks, NIST80053R5Checks, type NagPack } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/** The rule packs every stack of every environment must pass. */
export function nagPacks(): NagPack[] {
  return [new AwsSolutionsChecks(), new NIST80053R5Checks()];
}

/**
 * Registers the packs as policy-validation plugins: `app.synth()` (and so `cdk synth|diff|deploy`)
 * fails on any finding that is not acknowledged on its construct.
 */
export function enforceNag(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app));
}

/** A finding of one pack on one construct, for tests and the synth report. */
export interface NagFinding {
  readonly pack: string;
  readonly rule: string;
  readonly path: string;
  readonly description: string;
}

/** A finding acknowledged on a construct, with its reason (for the synth report and docs). */
export interface NagAcknowledgment {
  readonly path: string;
  readonly rule: string;
  readonly reason: string;
}

const PACK_RULE_PREFIXES = ['AwsSolutions-', 'NIST.800.53.R5-'];

/** Every cdk-nag acknowledgment in a scope. */
export function nagAcknowledgments(scope: IConstruct): NagAcknowledgment[] {
  const found: NagAcknowledgment[] = [];
  for (const construct of scope.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY || !entry.data) continue;
      for (const [key, reason] of Object.entries(entry.data as Record<string, string>)) {
        const rule = key.replace(/^annotation::/i, '');
        if (PACK_RULE_PREFIXES.some((prefix) => rule.startsWith(prefix)))
          found.push({ path: construct.node.path, rule, reason });
      }
    }
  }
  return found;
}

/** Runs every pack over a scope without synthesizing, and lists the unacknowledged findings. */
export function nagFindings(scope: IConstruct): NagFinding[] {
  return nagPacks().flatMap((pack) =>
    pack.validateScope(scope).violations.flatMap((violation) =>
      violation.violatingResources.map((resource) => ({
        pack: pack.readPackName,
        rule: violation.ruleName,
        path: resource.constructPath ?? resource.resourceLogicalId ?? '<unknown>',
        description: violation.description,
      })),
    ),
  );
}

/**
 * Acknowledges the AwsSolutions-IAM5 findings of a policy's own wildcard actions and resources,
 * one finding id each (as cdk-nag renders them), on the policy construct itself. Used only for
 * policies whose wildcards are deliberate and explained by `reason`; a wildcard added later to
 * another policy still fails synth.
 */
export function acknowledgeWildcards(policy: iam.Policy | iam.ManagedPolicy, reason: string): void {
  const stack = Stack.of(policy);
  const document = stack.resolve(policy.document.toJSON()) as { Statement?: ResolvedStatement[] } | undefined;
  const ids = new Set<string>();
  for (const statement of document?.Statement ?? []) {
    if (statement.Effect !== 'Allow') continue;
    for (const action of toArray(statement.Action)) {
      if (typeof action === 'string' && action.includes('*')) ids.add(`AwsSolutions-IAM5[Action::${action}]`);
    }
    for (const resource of toArray(statement.Resource)) {
      const flat = flattenReference(resource);
      if (flat.includes('*')) ids.add(`AwsSolutions-IAM5[Resource::${flat}]`);
    }
  }
  for (const id of ids) Validations.of(policy).acknowledge({ id, reason });
}

interface ResolvedStatement {
  readonly Effect?: string;
  readonly Action?: unknown;
  readonly Resource?: unknown;
}

function toArray(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * Renders a resolved CloudFormation value the way cdk-nag names findings: `${x}` and references
 * become `<x>`, `Fn::Join` is joined, `Fn::GetAtt` becomes `<Logical.Attribute>`.
 */
export function flattenReference(value: unknown): string {
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (value && typeof value === 'object') {
    const node = value as Record<string, unknown>;
    if (Array.isArray(node['Fn::Join'])) {
      const [delimiter, parts] = node['Fn::Join'] as [string, unknown[]];
      return parts.map(flattenReference).join(delimiter);
    }
    if ('Ref' in node) return `<${flattenReference(node.Ref)}>`;
    if (Array.isArray(node['Fn::GetAtt'])) {
      const [resource, attribute] = node['Fn::GetAtt'] as [unknown, unknown];
      return `<${flattenReference(resource)}.${flattenReference(attribute)}>`;
    }
    if ('Fn::Sub' in node) return flattenReference(node['Fn::Sub']);
    if ('Fn::ImportValue' in node) return flattenReference(node['Fn::ImportValue']);
  }
  return JSON.stringify(value);
}

/** Why CDK-generated inline policies are accepted (NIST.800.53.R5-IAMNoInlinePolicy). */
export const INLINE_POLICY_REASON =
  'The policy is the DefaultPolicy CDK generates for grants to a role that only this construct uses; it lives and dies with the role, and the role is capped by the permissions boundary.';
