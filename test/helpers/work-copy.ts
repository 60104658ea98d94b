/**
 * A private copy of the repository's files (as a fresh clone would have them, with the installed
 * node_modules linked in) for commands that write beside the sources: `npx cdk synth` writes
 * `cdk.out` and takes locks in it, so two runs of the documented commands (the docs test, the
 * rehearsal) in one working tree would trip over each other and over the developer's own cdk.out.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from './cdk-cli.js';

/** Folders never copied: installed, generated or local. */
const SKIPPED = new Set(['node_modules', 'cdk.out', '.git', '.rehearsal', 'coverage', '.tmp']);

export interface WorkCopy {
  readonly dir: string;
  remove(): void;
}

export function repositoryCopy(): WorkCopy {
  const dir = mkdtempSync(join(tmpdir(), 'work-copy-'));
  const listed = spawnSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  if (listed.status === 0) {
    for (const file of listed.stdout.split('\0').filter(Boolean)) {
      if (SKIPPED.has(file.split('/')[0]!) || !existsSync(join(REPO_ROOT, file))) continue;
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      cpSync(join(REPO_ROOT, file), join(dir, file));
    }
  } else {
    // Not a git checkout (an unpacked archive): everything but the skipped folders.
    cpSync(REPO_ROOT, dir, {
      recursive: true,
      filter: (source) => !SKIPPED.has(source.slice(REPO_ROOT.length).split('/')[0] ?? ''),
    });
  }
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
