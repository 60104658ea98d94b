import { Writable } from 'node:stream';
import { formatDifferences, type TemplateDiff } from '@aws-cdk/cloudformation-diff';
import { classifyRemoval } from './classification.js';

/** What a change does to one resource, from the diff's `changeImpact`. */
export type ResourceAction = 'add' | 'update' | 'replace' | 'may-replace' | 'remove' | 'orphan' | 'import';

/** One changed resource of a stack. */
export interface ResourceRow {
  readonly stack: string;
  readonly logicalId: string;
  readonly type: string;
  /** Construct path from the template's `aws:cdk:path` metadata; the logical id when unknown. */
  readonly path: string;
  readonly action: ResourceAction;
  /**
   * For a removal, replacement or orphaning that the classification calls routine: why it is not
   * destructive (classification.ts). Absent otherwise.
   */
  readonly routine?: string;
}

/** A destructive change: a stateful or shared resource removed, replaced (or maybe replaced), or left orphaned. */
export interface DestructiveChange {
  readonly stack: string;
  readonly logicalId: string;
  readonly type: string;
  readonly path: string;
  readonly kind: 'removal' | 'replacement' | 'may-replace' | 'orphan';
  /** Why this type's removal or replacement is destructive (classification.ts). */
  readonly reason: string;
}

/** The review-relevant content of one stack's diff. */
export interface StackReport {
  readonly stackName: string;
  readonly hasChanges: boolean;
  readonly added: number;
  readonly updated: number;
  readonly removed: number;
  readonly replaced: number;
  readonly rows: readonly ResourceRow[];
  readonly destructive: readonly DestructiveChange[];
  /** Table rows (first row the header) of IAM statement and managed-policy changes. */
  readonly iam: { readonly statements: string[][]; readonly managedPolicies: string[][]; readonly broadened: boolean };
  /** Table rows (first row the header) of security-group rule changes; `broadened` when rules are added. */
  readonly securityGroups: { readonly rules: string[][]; readonly broadened: boolean };
  /** The CDK CLI's text diff of the stack, without colours. */
  readonly rawDiff: string;
}

const IGNORED_TYPES = new Set(['AWS::CDK::Metadata']);

const IMPACT_ACTION: Record<string, ResourceAction | undefined> = {
  WILL_CREATE: 'add',
  WILL_UPDATE: 'update',
  WILL_REPLACE: 'replace',
  MAY_REPLACE: 'may-replace',
  WILL_DESTROY: 'remove',
  WILL_ORPHAN: 'orphan',
  WILL_IMPORT: 'import',
};

const DESTRUCTIVE_KIND: Partial<Record<ResourceAction, DestructiveChange['kind']>> = {
  remove: 'removal',
  replace: 'replacement',
  'may-replace': 'may-replace',
  orphan: 'orphan',
};

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** Removes terminal colour codes (the diff library colours its tables and text). */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

interface TemplateResource {
  readonly Type?: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}

function cdkPath(resource: TemplateResource | undefined): string | undefined {
  const path = resource?.Metadata?.['aws:cdk:path'];
  return typeof path === 'string' ? path : undefined;
}

/** Reads one stack's TemplateDiff into what the report shows. */
export function analyzeStack(stackName: string, diff: TemplateDiff): StackReport {
  const rows: ResourceRow[] = [];
  const logicalToPath: Record<string, string> = {};
  diff.resources.forEachDifference((logicalId, change) => {
    const type = change.newResourceType ?? change.oldResourceType ?? 'unknown';
    if (IGNORED_TYPES.has(type)) return;
    const oldValue = change.oldValue as TemplateResource | undefined;
    const newValue = change.newValue as TemplateResource | undefined;
    const path = cdkPath(newValue) ?? cdkPath(oldValue);
    if (path) logicalToPath[logicalId] = path;
    const action = IMPACT_ACTION[String(change.changeImpact)];
    if (!action) return;
    const classification = DESTRUCTIVE_KIND[action] ? classifyRemoval(type) : undefined;
    rows.push({
      stack: stackName,
      logicalId,
      type,
      path: path ?? logicalId,
      action,
      ...(classification?.class === 'routine' ? { routine: classification.reason } : {}),
    });
  });

  const destructive = rows.flatMap((row): DestructiveChange[] => {
    const kind = DESTRUCTIVE_KIND[row.action];
    const classification = classifyRemoval(row.type);
    if (!kind || classification.class === 'routine') return [];
    const { stack, logicalId, type, path } = row;
    return [{ stack, logicalId, type, path, kind, reason: classification.reason }];
  });
  const count = (...actions: ResourceAction[]): number => rows.filter((row) => actions.includes(row.action)).length;

  const iam = diff.iamChanges;
  const sg = diff.securityGroupChanges;
  const clean = (table: string[][]): string[][] => table.map((row) => row.map((cell) => stripAnsi(String(cell))));
  return {
    stackName,
    hasChanges: rows.length > 0 || (!diff.isEmpty && hasNonMetadataChange(diff)),
    added: count('add', 'import'),
    updated: count('update'),
    removed: count('remove', 'orphan'),
    replaced: count('replace', 'may-replace'),
    rows,
    destructive,
    iam: {
      statements: iam.statements.hasChanges ? clean(iam.summarizeStatements()) : [],
      managedPolicies: iam.managedPolicies.hasChanges ? clean(iam.summarizeManagedPolicies()) : [],
      broadened: iam.permissionsBroadened,
    },
    securityGroups: { rules: sg.hasChanges ? clean(sg.summarize()) : [], broadened: sg.rulesAdded },
    rawDiff: formatRaw(diff, logicalToPath),
  };
}

/** Outputs, parameters and other sections count as changes too; CDK metadata alone does not. */
function hasNonMetadataChange(diff: TemplateDiff): boolean {
  let changed = false;
  for (const section of [diff.outputs, diff.parameters, diff.conditions, diff.mappings, diff.unknown]) {
    if (section.differenceCount > 0) changed = true;
  }
  return changed;
}

function formatRaw(diff: TemplateDiff, logicalToPath: Record<string, string>): string {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  formatDifferences(stream, diff, logicalToPath);
  return stripAnsi(chunks.join('')).trimEnd();
}
