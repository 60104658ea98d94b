/**
 * The fenced code blocks of the project's Markdown pages, and which of them are commands: the docs
 * test runs every ```` ```sh runnable ```` block, and the rehearsal runs the administrator's
 * set-up blocks of docs/setup.md (```` ```sh runnable setup ````, once per environment, and
 * ```` ```sh runnable setup once ````), so the pages and what is tested cannot drift apart.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './cdk-cli.js';

export interface Fence {
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly endLine: number;
  /** Words of the info string: `sh runnable` → ['sh', 'runnable']. */
  readonly info: readonly string[];
  readonly body: string;
}

/** The fenced code blocks of a Markdown text, also when indented inside a list item. */
export function fences(file: string, text: string): Fence[] {
  const lines = text.split('\n');
  const found: Fence[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^( *)(`{3,}|~{3,})(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, marker, info] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = /^ *(`{3,}|~{3,}) *$/.exec(lines[j]!);
      if (close && close[1]![0] === marker![0] && close[1]!.length >= marker!.length) break;
      body.push(lines[j]!.startsWith(indent!) ? lines[j]!.slice(indent!.length) : lines[j]!.trimStart());
    }
    found.push({
      file,
      line: i + 1,
      endLine: j + 1,
      info: info!.trim().split(/\s+/).filter(Boolean),
      body: body.join('\n'),
    });
    i = j;
  }
  return found;
}

/** A repository file's fenced blocks. */
export function fencesOf(file: string): Fence[] {
  return fences(file, readFileSync(join(REPO_ROOT, file), 'utf8'));
}

/** The administrator's set-up commands of docs/setup.md: those run once, and those run per environment. */
export function setupCommands(): { readonly once: readonly Fence[]; readonly perEnvironment: readonly Fence[] } {
  const blocks = fencesOf('docs/setup.md').filter(
    (fence) => fence.info[0] === 'sh' && fence.info.includes('runnable') && fence.info.includes('setup'),
  );
  return {
    once: blocks.filter((fence) => fence.info.includes('once')),
    perEnvironment: blocks.filter((fence) => !fence.info.includes('once')),
  };
}
