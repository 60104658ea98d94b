import { fences } from '../../../../test/helpers/markdown.js';

/**
 * What a rendered comment or summary must not contain, checked the way GitHub reads it (CommonMark
 * with GitHub's tables, then GitHub's mention, reference and autolink filters on the text):
 *
 * - one HTML comment, the sticky marker on the first line, and no other `<!--` anywhere (code
 *   included: the marker is matched in the raw body);
 * - every fence closed by its own closing line (no content line closes it early);
 * - outside code spans and fences: no HTML but our own tags, no mention, no `#123` reference, no
 *   link, image or URL but our own run link (and alert blocks, `> [!NOTE]`);
 * - every row of a table with as many cells as its header.
 *
 * Returns the problems found, one line each (empty when there is none).
 */
export function markdownProblems(body: string): string[] {
  const problems: string[] = [];
  const lines = body.split('\n');

  const openers = [...body.matchAll(/<!--/g)].map((match) => match.index);
  const markerAtStart = /^<!-- private-aws-gitops:cdk-diff:[a-z0-9-]+ -->\n/.test(body);
  if (openers.length > (markerAtStart ? 1 : 0) || (openers.length === 1 && !markerAtStart)) {
    problems.push(`HTML comment openers at ${openers.join(', ')} (only the marker on line 1 may be one)`);
  }

  const inFence = new Set<number>();
  for (const block of fences('body', body)) {
    if (block.endLine > lines.length) problems.push(`the fence opened on line ${block.line} is never closed`);
    for (let line = block.line; line <= block.endLine; line++) inFence.add(line);
  }

  let tableColumns: number | undefined;
  lines.forEach((line, index) => {
    const number = index + 1;
    if (inFence.has(number) || (number === 1 && markerAtStart)) {
      tableColumns = undefined;
      return;
    }
    const row = /^(?:> )?(\|.*)$/.exec(line)?.[1];
    if (row === undefined) tableColumns = undefined;
    else {
      const cells = unescapedPipes(row) - 1;
      if (tableColumns === undefined) tableColumns = cells;
      else if (cells !== tableColumns) problems.push(`line ${number}: ${cells} cells, the header has ${tableColumns}`);
    }
    const prose = withoutCode(line)
      .replace(/\[run\]\(https:\/\/[^\s()]+\)/g, 'LINK')
      .replace(/^> \[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]$/, 'ALERT') // GitHub's five alert kinds
      .replace(/<\/?(details|summary|sub|br)>/g, 'TAG');
    const checks: Array<[RegExp, string]> = [
      [/</, 'HTML'],
      [/@[A-Za-z0-9]/, 'a mention'],
      [/#[0-9]/, 'a reference'],
      [/\[|\]\(/, 'a link or image'],
      [/:\/\/|\bwww\./i, 'a URL'],
    ];
    for (const [pattern, what] of checks) {
      if (pattern.test(prose)) problems.push(`line ${number}: ${what} outside code: ${line}`);
    }
  });
  return problems;
}

/** Pipes that split a table row: those without a backslash before them (GitHub's rule). */
function unescapedPipes(row: string): number {
  let count = 0;
  for (let i = 0; i < row.length; i++) if (row[i] === '|' && row[i - 1] !== '\\') count++;
  return count;
}

/**
 * The line with its code spans replaced by `CODE` and its backslash escapes by `E` (CommonMark: a
 * backtick run opens a span that the next run of the same length closes; inside, nothing is
 * escaped).
 */
export function withoutCode(line: string): string {
  let out = '';
  let i = 0;
  const runAt = (at: number): number => {
    let n = 0;
    while (line[at + n] === '`') n++;
    return n;
  };
  while (i < line.length) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length) {
      out += 'E';
      i += 2;
      continue;
    }
    if (c !== '`') {
      out += c;
      i++;
      continue;
    }
    const n = runAt(i);
    let j = i + n;
    let close = -1;
    while (j < line.length) {
      if (line[j] !== '`') {
        j++;
        continue;
      }
      const m = runAt(j);
      if (m === n) {
        close = j;
        break;
      }
      j += m;
    }
    if (close < 0) {
      out += line.slice(i, i + n);
      i += n;
    } else {
      out += 'CODE';
      i = close + n;
    }
  }
  return out;
}
