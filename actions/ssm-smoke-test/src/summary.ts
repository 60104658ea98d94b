import { excerpt } from './http-check.js';
import type { SmokeTestResult } from './smoke-test.js';

const escape = (text: string): string => text.replace(/\|/g, '\\|').replace(/</g, '&lt;');

/** The job summary of a passed smoke test. */
export function passedSummary(result: SmokeTestResult, path: string): string {
  const rows: Array<[string, string]> = [
    [
      'Target',
      `\`${result.service.cluster}/${result.service.service}\`, task \`${result.task.taskId}\`, container port ${result.port}`,
    ],
    ['Task definition', `\`${result.task.taskDefinitionArn.split('/').pop()}\``],
    ['ECS Exec agent', result.task.agentStatus],
    ['Session', `\`${result.sessionId}\``],
    ['Request', `GET ${escape(path)} (${result.http.attempts} attempt${result.http.attempts === 1 ? '' : 's'})`],
    ['Status', String(result.http.status)],
    ['Latency', `${result.http.latencyMs.toFixed(1)} ms`],
    ['Body', `\`${escape(excerpt(result.http.body, 120))}\``],
  ];
  return [
    '## Smoke test passed :white_check_mark:',
    '',
    '| | |',
    '| --- | --- |',
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
    '',
  ].join('\n');
}

/** The job summary of a failed smoke test: the message and the doctor's report. */
export function failedSummary(message: string): string {
  return ['## Smoke test failed :x:', '', '```text', message, '```', ''].join('\n');
}
