import { join } from 'node:path';
import type { TemplateDiff } from '@aws-cdk/cloudformation-diff';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { PowerOutcome } from './sleep.js';
import { ALLOW_DESTRUCTIVE_LABEL } from '../../../infra/lib/names.js';
import { UserInputError } from '../../shared/src/errors.js';
import type { DestructiveChange } from './analyze.js';
import { checkBootstrap } from './bootstrap-check.js';
import { cachedImages, checkCachedImages } from './image-cache-check.js';
import { pullRequestLabels, type GitHubClient, type PullRequestRef } from './comment.js';
import {
  bootstrapRequirement,
  deployStacks,
  diffStacks,
  produceAssembly,
  selectedStacks,
  stackPatterns,
  SynthFindingsError,
  type CommandDeps,
  type SelectedStack,
  type StackOutputs,
} from './commands.js';
import { deployedTemplate, writeDiffData } from './diff-data.js';
import { detectDrift, isDrifted, renderDrift, syncDriftIssue } from './drift.js';
import { shouldComment, type Inputs } from './inputs.js';
import type { NagReport } from './nag.js';
import { commentMarker, fitReport, renderNagFailure, renderReport, smallerReports, SUMMARY_LIMIT } from './render.js';
import { buildReport, destructiveChanges, hasChanges, type DiffReport } from './report.js';
import { reviewGate, type CommentOutcome } from './review.js';
import { refusal } from './review-gate.js';
import type { RunContext } from './run-context.js';
import { deploySummary, synthSummary } from './summary.js';

/**
 * What each command did, as data: `run()` (main.ts) maps an outcome to the step's outputs, job
 * summary, log, pull-request comment and failure, and does nothing else.
 */

/** A sticky comment to post or update: on which pull request, with which marker, which bodies. */
export interface CommentPlan {
  readonly pullRequest: PullRequestRef;
  readonly marker: string;
  /** Candidate bodies, richest first; the next is tried when GitHub refuses one (422). */
  readonly bodies: () => Iterable<string>;
  /** What the comment carries, for the log line (e.g. "Diff comment"). */
  readonly subject: string;
}

export interface SynthOutcome {
  readonly command: 'synth';
  readonly assemblyDir: string;
  readonly summary: string;
  readonly message: string;
}

/** A diff that produced a report. */
export interface DiffReportOutcome {
  readonly command: 'diff';
  readonly kind: 'report';
  readonly assemblyDir: string;
  readonly report: DiffReport;
  readonly hasChanges: boolean;
  readonly destructive: readonly DestructiveChange[];
  /** The whole report, for `report-file`. */
  readonly fullReport: string;
  readonly reportFile: string;
  /** The job summary: the report as far as it fits. */
  readonly summary: string;
  readonly message: string;
  readonly comment?: CommentPlan;
  /** Why a comment that was asked for is not posted. */
  readonly warnings: readonly string[];
  /** Why the step fails (destructive changes not allowed); absent when it passes. */
  readonly failure?: string;
  /** Where the data for the comment command was written, when asked. */
  readonly dataFile?: string;
}

/** A diff that cdk-nag stopped at synthesis: no report, the findings instead. */
export interface NagRefusedOutcome {
  readonly command: 'diff';
  readonly kind: 'nag-refused';
  readonly nag: NagReport;
  readonly comment?: CommentPlan;
  readonly failure: string;
}

export type DiffOutcome = DiffReportOutcome | NagRefusedOutcome;

export interface DeployOutcome {
  readonly command: 'deploy';
  readonly assemblyDir: string;
  readonly outputs: StackOutputs;
  readonly summary: string;
  readonly message: string;
}

export interface DriftOutcome {
  readonly command: 'drift';
  readonly drifted: boolean;
  readonly summary: string;
  readonly message: string;
}

export type Outcome = SynthOutcome | DiffOutcome | DeployOutcome | CommentOutcome | DriftOutcome | PowerOutcome;

/** What drift detection needs besides the toolkit: CloudFormation, and GitHub for the issue. */
export interface DriftCommandDeps extends CommandDeps {
  readonly cloudformation: (region: string) => CloudFormationClient;
  readonly github?: GitHubClient;
  readonly sleep: (ms: number) => Promise<void>;
}

/**
 * Detects the environment's drift (out-of-band changes, and main against what is deployed),
 * writes the summary, and opens, updates or closes the environment's drift issue.
 */
export async function runDrift(inputs: Inputs, context: RunContext, deps: DriftCommandDeps): Promise<DriftOutcome> {
  const { assembly, directory } = await produceAssembly(inputs, deps);
  try {
    const stacks = selectedStacks(assembly, stackPatterns(inputs));
    const report = await detectDrift(inputs.environment, context.commit, stacks, {
      cloudformation: deps.cloudformation(stacks[0]?.region ?? ''),
      sleep: deps.sleep,
    });
    const body = renderDrift(report, context.runUrl);
    const drifted = isDrifted(report);
    let issue = 'no issue (no github-token)';
    if (deps.github && context.repository) {
      const synced = await syncDriftIssue(report, body, context.repository, {
        github: deps.github,
        logger: deps.logger,
      });
      issue = synced.number ? `issue #${synced.number} ${synced.action}` : 'no issue needed';
    }
    return {
      command: 'drift',
      drifted,
      summary: body,
      message: `${inputs.environment}: ${drifted ? 'drifted' : 'no drift'} (${stacks.length} stack(s) of ${directory}); ${issue}.`,
    };
  } finally {
    await assembly.dispose();
  }
}

export async function runSynth(inputs: Inputs, deps: CommandDeps): Promise<SynthOutcome> {
  const { assembly, directory, nag } = await produceAssembly(inputs, deps);
  try {
    const stacks = selectedStacks(assembly, stackPatterns(inputs));
    return {
      command: 'synth',
      assemblyDir: directory,
      summary: synthSummary(stacks, nag, 'passed'),
      message: `Synthesized ${stacks.length} stack(s) of ${inputs.environment} to ${directory}; cdk-nag: no unacknowledged finding.`,
    };
  } finally {
    await assembly.dispose();
  }
}

/** What a diff found, before it is judged: the inputs of `decideDiff`. */
export interface DiffFacts {
  readonly assemblyDir: string;
  /** The working directory: the report file goes there when the runner has no temporary directory. */
  readonly cwd: string;
  readonly stacks: readonly SelectedStack[];
  readonly diffs: Record<string, TemplateDiff>;
  readonly nag: NagReport;
  /** The pull request's labels: live from the API when possible, else the event's. */
  readonly labels: readonly string[];
}

/** Whether (and where) the sticky comment goes, or why not. */
function commentPlan(
  inputs: Inputs,
  context: RunContext,
  subject: string,
  bodies: () => Iterable<string>,
): { comment?: CommentPlan; warnings: string[] } {
  if (!shouldComment(inputs, context.eventName)) return { warnings: [] };
  if (!context.pullRequest)
    return { warnings: ['comment is on, but this run has no pull request: no comment posted.'] };
  if (!inputs.githubToken) return { warnings: ["comment is on, but 'github-token' is empty: no comment posted."] };
  return {
    comment: { pullRequest: context.pullRequest, marker: commentMarker(inputs.environment), bodies, subject },
    warnings: [],
  };
}

/** Judges a diff: the report, its renderings, the comment to post, and whether the step fails. Pure. */
export function decideDiff(inputs: Inputs, context: RunContext, facts: DiffFacts): DiffReportOutcome {
  const allowed = Boolean(inputs.allowDestructiveLabel && facts.labels.includes(inputs.allowDestructiveLabel));
  const templates = Object.fromEntries(facts.stacks.map((stack) => [stack.stackName, stack.template]));
  const report = buildReport(facts.diffs, templates, {
    environment: inputs.environment,
    account: facts.stacks[0]?.account ?? 'unknown',
    region: facts.stacks[0]?.region ?? 'unknown',
    commit: context.commit,
    runUrl: context.runUrl,
    method: inputs.diffMethod,
    nag: facts.nag.findings,
    allowLabel: inputs.allowDestructiveLabel,
    allowed,
    failOnDestructive: inputs.failOnDestructive,
  });
  const destructive = destructiveChanges(report);
  const reportFile = inputs.reportFile ?? join(context.tempDir ?? facts.cwd, `cdk-diff-${inputs.environment}.md`);
  const changedStacks = report.stacks.filter((stack) => stack.hasChanges).length;
  const failure =
    destructive.length > 0 && inputs.failOnDestructive && !allowed
      ? `${destructive.length} destructive change(s) in ${inputs.environment}: ` +
        destructive
          .map((change) => `${change.kind} of ${change.type} ${change.logicalId} (${change.stack})`)
          .join('; ') +
        `. If they are intended, add the '${inputs.allowDestructiveLabel ?? '<allow-destructive-label>'}' label to the pull request and re-run.`
      : undefined;
  return {
    command: 'diff',
    kind: 'report',
    assemblyDir: facts.assemblyDir,
    report,
    hasChanges: hasChanges(report),
    destructive,
    fullReport: renderReport(report, 'full'),
    reportFile,
    summary: fitReport(report, SUMMARY_LIMIT),
    message:
      `${inputs.environment}: ${changedStacks} of ${report.stacks.length} stack(s) change, ` +
      `${destructive.length} destructive change(s); full report in ${reportFile}.`,
    ...commentPlan(inputs, context, 'Diff comment', () => smallerReports(report)),
    ...(failure ? { failure } : {}),
  };
}

/** What the diff needs besides the toolkit: the GitHub client for live labels (absent without a token). */
export interface DiffDeps extends CommandDeps {
  readonly github?: GitHubClient;
  /** CloudFormation in a region, to read the deployed templates for the data file. */
  readonly cloudformation: (region: string) => CloudFormationClient;
}

/**
 * Runs the diff: synthesizes (or loads) the assembly, diffs the selected stacks against what is
 * deployed, reads the pull request's labels, and judges the result. A change cdk-nag refuses is
 * an outcome too (the comment says so), not an exception.
 */
export async function runDiff(inputs: Inputs, context: RunContext, deps: DiffDeps): Promise<DiffOutcome> {
  let produced;
  try {
    produced = await produceAssembly(inputs, deps);
  } catch (error) {
    if (!(error instanceof SynthFindingsError)) throw error;
    const body = renderNagFailure({
      environment: inputs.environment,
      commit: context.commit,
      runUrl: context.runUrl,
      nag: error.nag.findings,
    });
    // Not commenting is silent here: the step fails with the findings either way.
    const { comment } = commentPlan(inputs, context, 'cdk-nag findings', () => [body]);
    return {
      command: 'diff',
      kind: 'nag-refused',
      nag: error.nag,
      ...(comment ? { comment } : {}),
      failure: error.message,
    };
  }
  const { assembly, directory, nag } = produced;
  try {
    const patterns = stackPatterns(inputs);
    const stacks = selectedStacks(assembly, patterns);
    const diffs = await diffStacks(assembly, patterns, inputs.diffMethod, deps.toolkit);
    const labels =
      context.pullRequest && deps.github
        ? await pullRequestLabels(deps.github, context.pullRequest)
        : context.eventLabels;
    const outcome = decideDiff(inputs, context, { assemblyDir: directory, cwd: deps.cwd, stacks, diffs, nag, labels });
    if (!inputs.dataFile) return outcome;
    // The data the trusted comment workflow renders from: what this job synthesized and read.
    const cloudformation = deps.cloudformation(stacks[0]?.region ?? '');
    writeDiffData(inputs.dataFile, {
      version: 1,
      environment: inputs.environment,
      account: stacks[0]?.account ?? '',
      region: stacks[0]?.region ?? '',
      commit: context.commit,
      method: inputs.diffMethod,
      nag: nag.findings,
      stacks: await Promise.all(
        stacks.map(async (stack) => ({
          stackName: stack.stackName,
          template: stack.template as Record<string, unknown>,
          deployed: await deployedTemplate(cloudformation, stack.stackName),
        })),
      ),
    });
    return { ...outcome, dataFile: inputs.dataFile };
  } finally {
    await assembly.dispose();
  }
}

/** What the deploy needs besides the toolkit: the clients of the preflights (bootstrap, image cache), for a region. */
export interface DeployDeps extends CommandDeps {
  readonly bootstrapClients: (region: string) => {
    readonly cloudformation: CloudFormationClient;
    readonly ssm: SSMClient;
    readonly ecr: ECRClient;
  };
  /** GitHub, for the review gate (absent without a token). */
  readonly github?: GitHubClient;
}

/**
 * Checks the environment's bootstrap and that the image cache holds the tasks' image, then deploys
 * the selected stacks in dependency order.
 */
export async function runDeploy(inputs: Inputs, context: RunContext, deps: DeployDeps): Promise<DeployOutcome> {
  const { assembly, directory } = await produceAssembly(inputs, deps);
  try {
    const stacks = selectedStacks(assembly, stackPatterns(inputs));
    const requirement = bootstrapRequirement(assembly, stacks, inputs.environment);
    const clients = deps.bootstrapClients(requirement.region);
    await checkBootstrap(requirement, clients);
    deps.logger.info(
      `${inputs.environment} is bootstrapped (qualifier ${requirement.qualifier}, the foundation's execution policy and boundary).`,
    );
    const images = cachedImages(stacks);
    await checkCachedImages(images, clients.ecr);
    for (const { image } of images) {
      deps.logger.info(
        `The pull-through cache ${image.repositoryPrefix} holds ${image.upstreamRepository}:${image.tag}.`,
      );
    }
    if (inputs.reviewGate) {
      if (!deps.github || !context.repository) {
        throw new UserInputError(
          "The review gate needs 'github-token' (pull-requests: read) and the repository (GITHUB_REPOSITORY) to read the merged pull request; set review-gate: off only for a deploy outside GitHub.",
        );
      }
      const decision = await reviewGate(
        {
          environment: inputs.environment,
          commit: context.commit,
          repository: context.repository,
          stacks,
          allowLabel: inputs.allowDestructiveLabel ?? ALLOW_DESTRUCTIVE_LABEL,
          approvedFingerprint: inputs.reviewedFingerprint,
        },
        { github: deps.github, cloudformation: clients.cloudformation },
      );
      if (!decision.allowed) throw new ReviewRefusedError(refusal(decision), decision.fingerprint);
      for (const reason of decision.reasons) deps.logger.info(`Review gate: ${reason}`);
      deps.io.approve(`approved by the review gate (${decision.reasons.join(' ')})`);
    } else {
      // review-gate: off, only for a deploy outside GitHub: whoever runs it approves by running it.
      deps.io.approve('the review gate is off (a deploy outside GitHub, by whoever ran it).');
    }
    deps.logger.info(`Deploying ${stacks.map((stack) => stack.stackName).join(', ')} (${inputs.deploymentMethod}).`);
    const outputs = await deployStacks(assembly, stacks, inputs.deploymentMethod, deps);
    return {
      command: 'deploy',
      assemblyDir: directory,
      outputs,
      summary: deploySummary(inputs.environment, outputs),
      message: `Deployed ${Object.keys(outputs).length} stack(s) of ${inputs.environment}.`,
    };
  } finally {
    await assembly.dispose();
  }
}

/** The review gate refused the deploy: nothing was deployed. Carries the fingerprint for the summary. */
export class ReviewRefusedError extends UserInputError {
  constructor(
    message: string,
    readonly fingerprint: string,
  ) {
    super(message);
    this.name = 'ReviewRefusedError';
  }
}
