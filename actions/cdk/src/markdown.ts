/**
 * Markdown for GitHub (comments and job summaries) from text we do not control: anything that comes
 * from a template or a diff (logical ids, types, construct paths, property values, IAM principals,
 * actions, resources and conditions, security-group rules, tag values, cdk-nag findings, stack
 * names). Such text is written by the author of a pull request, and must render as the text it is:
 *
 * - no HTML (`<`, `>`, `&`), and never an HTML comment opener, so that no value can fake the sticky
 *   comment's marker (`<!-- ... -->`, matched in the raw body);
 * - no @mention of a user or team (GitHub notifies them), no `#123` cross-reference;
 * - no link or image (`[x](y)`, `![x](y)`, `<https://...>`), no bare URL that GitHub autolinks;
 * - no line break that starts a new block (a heading, a quote, a table row, a fence);
 * - no closing of the code span or fence it sits in: the delimiter is longer than any backtick run
 *   of the content;
 * - in a table, no extra column: `|` is escaped by `table`, the one place that knows it is in one.
 *
 * Each function is for one context: `code` (an inline code span, the usual choice), `text` (inline
 * prose such as a finding's description), `html` (inside an HTML element we write), `fence` (a
 * fenced block), and `table` (cells made by the others).
 */

/** Joins without showing: breaks a mention, a reference or an autolink and reads the same. */
export const ZERO_WIDTH_JOINER = '\u200D';
const ZWJ = ZERO_WIDTH_JOINER;

/** CommonMark line endings; any of them in an inline value would start a new block. */
const LINE_BREAK = /\r\n|\r|\n/g;
/** C0 and C1 controls (other than tab and line endings) and the bidirectional overrides that reorder text. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g;

/** One line: line breaks become spaces, control characters a visible replacement character. */
export function singleLine(value: string): string {
  return value.replace(LINE_BREAK, ' ').replace(CONTROL, '\uFFFD');
}

/**
 * Breaks what GitHub links after rendering, in text nodes: `@user` and `@org/team` mentions (and
 * `user@example.com` addresses), `#123` references, and bare URLs (`https://`, `www.`).
 */
function breakGitHubLinks(value: string): string {
  return value
    .replace(/@(?=[A-Za-z0-9])/g, `@${ZWJ}`)
    .replace(/#(?=[0-9])/g, `#${ZWJ}`)
    .replace(/:\/\//g, `:${ZWJ}//`)
    .replace(/\b(www)\./gi, `$1${ZWJ}.`);
}

/** An HTML comment opener shown as itself, but no longer one in the raw body (no fake marker). */
function breakCommentOpener(value: string): string {
  return value.replace(/<!--/g, `<!${ZWJ}--`);
}

function escapeHtml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Inline prose, for a position inside a line (a table cell, after a list marker), never at the
 * start of one: HTML as entities; Markdown punctuation that opens an inline construct escaped with
 * a backslash (emphasis, code, links and images, strikethrough, math); mentions, references and
 * bare URLs broken.
 */
export function text(value: string): string {
  return escapeHtml(breakGitHubLinks(singleLine(value))).replace(/[\\`*_[\]~$]/g, '\\$&');
}

/**
 * An inline code span: inside it nothing is Markdown, HTML, a mention or a link. The delimiter is a
 * backtick run longer than any inside, with a space of padding when the content starts or ends
 * with a backtick (or with spaces on both sides, which the span would strip).
 */
export function code(value: string): string {
  const content = breakCommentOpener(singleLine(value));
  if (content === '') return '` `';
  const longest = Math.max(0, ...[...content.matchAll(/`+/g)].map((run) => run[0].length));
  const delimiter = '`'.repeat(longest + 1);
  const pad =
    content.startsWith('`') ||
    content.endsWith('`') ||
    (content.startsWith(' ') && content.endsWith(' ') && content.trim() !== '')
      ? ' '
      : '';
  return `${delimiter}${pad}${content}${pad}${delimiter}`;
}

/**
 * Text inside an HTML element we write (e.g. `<summary>`): no Markdown is parsed there, so only
 * entities (quotes too) and the breaking of mentions, references and URLs.
 */
export function html(value: string): string {
  return escapeHtml(breakGitHubLinks(singleLine(value)))
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * A fenced code block: the fence is a backtick run longer than any in the content (at least
 * three), so no line of the content can close it. The content is shown as it is, but for an
 * HTML comment opener (a fake marker).
 */
export function fence(content: string, info = ''): string {
  const body = breakCommentOpener(content.replace(LINE_BREAK, '\n'));
  const longest = Math.max(0, ...[...body.matchAll(/`+/g)].map((run) => run[0].length));
  const marker = '`'.repeat(Math.max(3, longest + 1));
  return `${marker}${info}\n${body}\n${marker}`;
}

/**
 * A link we build (e.g. to the workflow run). Only http(s) URLs; characters that would end the
 * destination or the line are percent-encoded. Anything else is shown as code, not linked.
 */
export function link(label: string, url: string): string {
  if (!/^https?:\/\/[^\s]+$/.test(url)) return code(url);
  const destination = url.replace(/[()<>\s`"'\\[\]]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `[${text(label)}](${destination})`;
}

/**
 * A cell's lines (e.g. the actions of one IAM statement) as code spans, one a line (`<br>`
 * between them); an empty value stays an empty cell.
 */
export function codeLines(value: string): string {
  return value
    .split(LINE_BREAK)
    .map((line) => line.trimEnd())
    .filter((line) => line !== '')
    .map(code)
    .join('<br>');
}

/**
 * A pipe table. Cells are Markdown made by the functions above (or our own); a `|` in a cell is
 * escaped (GitHub removes the backslash before splitting a row, also inside code spans), and a
 * line break in a cell, which would end the row, becomes a space.
 */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const cell = (value: string): string => value.replace(LINE_BREAK, ' ').replace(/\|/g, '\\|');
  const line = (cells: readonly string[]): string => `| ${cells.map(cell).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
