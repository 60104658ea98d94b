import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { actionNames, buildAction } from '../scripts/build-actions.js';
import { readActionYaml } from './helpers/action-runner.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DOCS = readFileSync(join(ROOT, 'docs/actions.md'), 'utf8');

describe.each(actionNames())('actions/%s', (name) => {
  const definition = readActionYaml(name) as ReturnType<typeof readActionYaml> & {
    inputs?: Record<string, { description?: string; required?: boolean; default?: string }>;
    outputs?: Record<string, { description?: string }>;
  };

  it('runs on node24 from its committed dist/', () => {
    expect(definition.runs.using).toBe('node24');
    for (const entry of [definition.runs.main, definition.runs.post].filter(Boolean) as string[]) {
      expect(entry).toMatch(/^dist\/\w+\.cjs$/);
      expect(existsSync(join(ROOT, 'actions', name, entry))).toBe(true);
    }
  });

  it('describes every input and output; optional inputs have a default', () => {
    for (const [input, spec] of Object.entries(definition.inputs ?? {})) {
      expect([input, spec.description?.trim()]).toEqual([input, expect.stringMatching(/\S/)]);
      if (!spec.required) expect([input, spec.default]).toEqual([input, expect.any(String)]);
    }
    for (const [output, spec] of Object.entries(definition.outputs ?? {})) {
      expect([output, spec.description?.trim()]).toEqual([output, expect.stringMatching(/\S/)]);
    }
  });

  it('is documented in docs/actions.md with every input and output', () => {
    const section = DOCS.split(/^## /m).find((part) => part.includes(`actions/${name}`));
    expect(section).toBeDefined();
    for (const key of [...Object.keys(definition.inputs ?? {}), ...Object.keys(definition.outputs ?? {})]) {
      expect([key, section!.includes(`\`${key}\``)]).toEqual([key, true]);
    }
  });

  it('has a dist/ identical to a fresh build (check-dist)', async () => {
    const outdir = mkdtempSync(join(tmpdir(), `dist-${name}-`));
    try {
      const built = await buildAction(name, outdir);
      for (const file of built) {
        const committed = join(ROOT, 'actions', name, 'dist', file.slice(outdir.length + 1));
        expect([committed, existsSync(committed)]).toEqual([committed, true]);
        // Compare sizes first for a short message, then the bytes.
        const fresh = readFileSync(file);
        const current = readFileSync(committed);
        expect(current.length).toBe(fresh.length);
        expect(current.equals(fresh)).toBe(true);
      }
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
