import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One cdk-nag finding (or another validation plugin's) from the assembly's validation report. */
export interface NagFinding {
  readonly plugin: string;
  readonly rule: string;
  readonly severity: string;
  readonly path: string;
  readonly description: string;
}

/** What the synth summary shows of the validation: active findings and acknowledged ones. */
export interface NagReport {
  readonly findings: readonly NagFinding[];
  readonly acknowledged: number;
}

interface ValidationReportFile {
  readonly pluginReports?: ReadonlyArray<{
    readonly pluginName: string;
    readonly violations?: ReadonlyArray<{
      readonly ruleName: string;
      readonly description: string;
      readonly severity: string;
      readonly violatingConstructs?: ReadonlyArray<{ readonly constructPath?: string }>;
    }>;
    readonly suppressedViolations?: readonly unknown[];
  }>;
}

/**
 * Reads `validation-report.json`, which aws-cdk-lib writes into the assembly when policy-validation
 * plugins (cdk-nag 3) are registered, even when synth then fails on a finding. No file: no plugin ran.
 */
export function readNagReport(assemblyDir: string): NagReport {
  const file = join(assemblyDir, 'validation-report.json');
  if (!existsSync(file)) return { findings: [], acknowledged: 0 };
  const report = JSON.parse(readFileSync(file, 'utf8')) as ValidationReportFile;
  const findings: NagFinding[] = [];
  let acknowledged = 0;
  for (const plugin of report.pluginReports ?? []) {
    acknowledged += plugin.suppressedViolations?.length ?? 0;
    for (const violation of plugin.violations ?? []) {
      const constructs = violation.violatingConstructs?.length ? violation.violatingConstructs : [{}];
      for (const construct of constructs) {
        findings.push({
          plugin: plugin.pluginName,
          rule: violation.ruleName,
          severity: violation.severity,
          path: construct.constructPath ?? '<unknown>',
          description: violation.description,
        });
      }
    }
  }
  return { findings, acknowledged };
}

/** Findings that fail synth (cdk-nag reports rule violations as errors). */
export function blockingFindings(findings: readonly NagFinding[]): NagFinding[] {
  return findings.filter((finding) => finding.severity === 'error' || finding.severity === 'fatal');
}
