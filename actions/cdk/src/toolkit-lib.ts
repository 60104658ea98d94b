/**
 * @aws-cdk/toolkit-lib, loaded on first use. The commands that never synthesize, diff or deploy
 * (comment, drift, sleep, wake, schedule) start without it: its initialization is about a third
 * of the bundle's start-up, paid on every step of every job.
 */
export type ToolkitLib = typeof import('@aws-cdk/toolkit-lib');

let loading: Promise<ToolkitLib> | undefined;

export function toolkitLib(): Promise<ToolkitLib> {
  return (loading ??= import('@aws-cdk/toolkit-lib'));
}
