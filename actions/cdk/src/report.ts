import type { TemplateDiff } from '@aws-cdk/cloudformation-diff';
import { analyzeStack, type DestructiveChange, type StackReport } from './analyze.js';
import { compareCost, type CostChange, type CostResource, type StackResources } from './cost.js';
import type { PullThroughCacheImage } from '../../../infra/lib/image-cache.js';
import { cachedImageOf } from './image-cache-check.js';
import type { NagFinding } from './nag.js';

/** Everything the diff comment and job summary show, built from the toolkit's TemplateDiffs. */
export interface DiffReport {
  readonly environment: string;
  readonly account: string;
  readonly region: string;
  /** Full commit SHA the diff was computed for. */
  readonly commit: string;
  readonly runUrl?: string;
  readonly method: 'template' | 'change-set';
  readonly stacks: readonly StackReport[];
  readonly nag: readonly NagFinding[];
  readonly cost: CostChange;
  /** The label that allows destructive changes, and whether the pull request has it. */
  readonly allowLabel?: string;
  readonly allowed: boolean;
  readonly failOnDestructive: boolean;
  /**
   * Tags the change pulls through the ECR cache that the deployed stacks did not: the cache must
   * hold them before the merge, or the deploy stops (actions/cdk image-cache-check.ts).
   */
  readonly imagesToSeed?: readonly ImageToSeed[];
}

/** A new tag through a stack's pull-through cache; `ruleExists` when the deployed stack has the rule. */
export interface ImageToSeed {
  readonly stack: string;
  readonly image: PullThroughCacheImage;
  readonly ruleExists: boolean;
}

export interface ReportContext {
  readonly environment: string;
  readonly account: string;
  readonly region: string;
  readonly commit: string;
  readonly runUrl?: string;
  readonly method: 'template' | 'change-set';
  readonly nag: readonly NagFinding[];
  readonly allowLabel?: string;
  readonly allowed: boolean;
  readonly failOnDestructive: boolean;
}

/** A synthesized template, as far as the report reads it. */
export interface SynthesizedTemplate {
  readonly Resources?: Record<string, unknown>;
}

/**
 * The deployed resources, rebuilt from the new template and the diff: the diff holds the old value
 * of every resource it changes, adds or removes; every other resource is as in the new template.
 */
export function deployedResources(template: SynthesizedTemplate, diff: TemplateDiff): Record<string, CostResource> {
  const before: Record<string, CostResource> = { ...(template.Resources as Record<string, CostResource> | undefined) };
  diff.resources.forEachDifference((logicalId, change) => {
    if (change.oldValue) before[logicalId] = change.oldValue as CostResource;
    else delete before[logicalId];
  });
  return before;
}

/** Builds the report of an environment from its stacks' diffs and new templates (by stack name). */
export function buildReport(
  diffs: Record<string, TemplateDiff>,
  templates: Record<string, SynthesizedTemplate>,
  context: ReportContext,
): DiffReport {
  const names = Object.keys(diffs).sort();
  const before: StackResources = {};
  const after: StackResources = {};
  for (const name of names) {
    const template = templates[name] ?? {};
    after[name] = { ...(template.Resources as Record<string, CostResource> | undefined) };
    before[name] = deployedResources(template, diffs[name]!);
  }
  return {
    ...context,
    stacks: names.map((name) => analyzeStack(name, diffs[name]!)),
    cost: compareCost(before, after),
    imagesToSeed: names.flatMap((name) => imagesToSeed(name, before[name]!, after[name]!)),
  };
}

/** The cached images of the new resources whose repository and tag no deployed resource names. */
function imagesToSeed(stack: string, before: Record<string, unknown>, after: Record<string, unknown>): ImageToSeed[] {
  const key = (image: PullThroughCacheImage): string =>
    `${image.repositoryPrefix}/${image.upstreamRepository}:${image.tag}`;
  const deployed = new Set(
    Object.values(before)
      .flatMap((resource) => cachedImageOf(resource) ?? [])
      .map(key),
  );
  const ruleExists = Object.values(before).some(
    (resource) => (resource as { Type?: string }).Type === 'AWS::ECR::PullThroughCacheRule',
  );
  return Object.values(after)
    .flatMap((resource) => cachedImageOf(resource) ?? [])
    .filter((image) => !deployed.has(key(image)))
    .map((image) => ({ stack, image, ruleExists }));
}

export function hasChanges(report: Pick<DiffReport, 'stacks'>): boolean {
  return report.stacks.some((stack) => stack.hasChanges);
}

export function destructiveChanges(report: Pick<DiffReport, 'stacks'>): DestructiveChange[] {
  return report.stacks.flatMap((stack) => stack.destructive);
}
