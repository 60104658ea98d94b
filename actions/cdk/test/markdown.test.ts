import {
  code,
  codeLines,
  fence,
  html,
  link,
  singleLine,
  table,
  text,
  ZERO_WIDTH_JOINER as ZWJ,
} from '../src/markdown.js';
import { markdownProblems } from './helpers/markdown-check.js';

describe('text: inline prose from a template', () => {
  it('turns HTML into entities, so no tag, comment or autolink in angle brackets survives', () => {
    expect(text('<img src=x onerror=alert(1)> & <b>')).toBe('&lt;img src=x onerror=alert(1)&gt; &amp; &lt;b&gt;');
    expect(text('<!-- private-aws-gitops:cdk-diff:dev -->')).toBe('&lt;!-- private-aws-gitops:cdk-diff:dev --&gt;');
    expect(text('&lt;')).toBe('&amp;lt;');
  });

  it('breaks @mentions of users and teams (and e-mail addresses) with a zero-width joiner', () => {
    expect(text('ping @octocat and @my-org/admins')).toBe(`ping @${ZWJ}octocat and @${ZWJ}my-org/admins`);
    expect(text('me@example.com')).toBe(`me@${ZWJ}example.com`);
    expect(text('a @ b')).toBe('a @ b');
  });

  it('breaks #123 references and bare URLs', () => {
    expect(text('fixes #12')).toBe(`fixes #${ZWJ}12`);
    expect(text('see https://evil.example/x and www.evil.example')).toBe(
      `see https:${ZWJ}//evil.example/x and www${ZWJ}.evil.example`,
    );
  });

  it('escapes the punctuation that opens links, images, emphasis, code, strikethrough and math', () => {
    expect(text('[x](https://e.example) ![y](z)')).toBe(`\\[x\\](https:${ZWJ}//e.example) !\\[y\\](z)`);
    expect(text('*a* _b_ `c` ~~d~~ $e$ \\')).toBe('\\*a\\* \\_b\\_ \\`c\\` \\~\\~d\\~\\~ \\$e\\$ \\\\');
  });

  it('keeps one line: a line break would start a heading, a quote or a table row', () => {
    expect(text('a\n# heading\r\n> quote\r| x |')).toBe('a # heading &gt; quote | x |');
    expect(singleLine('a\u0000b\u202Ec')).toBe('a\uFFFDb\uFFFDc');
  });
});

describe('code: an inline code span', () => {
  it('wraps plain values in single backticks', () => {
    expect(code('AWS::S3::Bucket')).toBe('`AWS::S3::Bucket`');
  });

  it('uses a delimiter longer than any backtick run inside', () => {
    expect(code('a`b')).toBe('``a`b``');
    expect(code('a``b`c')).toBe('```a``b`c```');
  });

  it('pads with spaces when the content starts or ends with a backtick, or with spaces on both sides', () => {
    expect(code('`x')).toBe('`` `x ``');
    expect(code('x`')).toBe('`` x` ``');
    expect(code(' x ')).toBe('`  x  `');
    expect(code(' x')).toBe('` x`');
    expect(code('')).toBe('` `');
  });

  it('breaks an HTML comment opener (a fake sticky marker) and keeps one line', () => {
    expect(code('<!-- private-aws-gitops:cdk-diff:dev -->')).toBe(`\`<!${ZWJ}-- private-aws-gitops:cdk-diff:dev -->\``);
    expect(code('a\nb')).toBe('`a b`');
  });

  it('leaves mentions, links and HTML alone: GitHub renders none of them inside code', () => {
    expect(code('@octocat [x](y) <b>')).toBe('`@octocat [x](y) <b>`');
  });

  it('codeLines: one code span a line, joined with <br>', () => {
    expect(codeLines('s3:GetObject\ns3:PutObject\n')).toBe('`s3:GetObject`<br>`s3:PutObject`');
    expect(codeLines('')).toBe('');
  });
});

describe('html: text inside an element we write', () => {
  it('uses entities (quotes too) and breaks mentions, no backslash escapes', () => {
    expect(html(`x"><img src=x>'@octocat *y*`)).toBe(`x&quot;&gt;&lt;img src=x&gt;&#39;@${ZWJ}octocat *y*`);
  });
});

describe('fence: a fenced code block', () => {
  it('is at least three backticks, and longer than any backtick run of the content', () => {
    expect(fence('plain')).toBe('```\nplain\n```');
    expect(fence('a\n````\nb')).toBe('`````\na\n````\nb\n`````');
    expect(fence('x ``````` y')).toBe('````````\nx ``````` y\n````````');
  });

  it('breaks an HTML comment opener inside, which the raw body would otherwise carry', () => {
    expect(fence('<!-- private-aws-gitops:cdk-diff:dev -->')).toBe(
      `\`\`\`\n<!${ZWJ}-- private-aws-gitops:cdk-diff:dev -->\n\`\`\``,
    );
  });
});

describe('link: a link we build', () => {
  it('links http(s) URLs, percent-encoding what would end the destination', () => {
    expect(link('run', 'https://github.com/o/r/actions/runs/1')).toBe('[run](https://github.com/o/r/actions/runs/1)');
    expect(link('run', 'https://x.example/a)b<c')).toBe('[run](https://x.example/a%29b%3Cc)');
  });

  it('shows anything else as code', () => {
    expect(link('run', 'javascript:alert(1)')).toBe('`javascript:alert(1)`');
  });
});

describe('table', () => {
  it('escapes pipes in every cell (also inside code spans) and flattens line breaks', () => {
    expect(table(['a', 'b'], [[code('x|y'), text('1 | 2\n3')]])).toBe(
      ['| a | b |', '| --- | --- |', '| `x\\|y` | 1 \\| 2 3 |'].join('\n'),
    );
  });

  it('keeps the column count whatever the cells hold', () => {
    const hostile = ['|', '\\|', '`|`', 'a\n| b | c |', '\\'];
    const body = table(
      ['one', 'two'],
      hostile.map((value) => [code(value), text(value)]),
    );
    expect(markdownProblems(body)).toEqual([]);
  });
});

describe('the checker of rendered Markdown (used by the golden tests)', () => {
  it('finds each kind of problem it looks for', () => {
    const problems = (body: string) => markdownProblems(body).join('\n');
    expect(problems('ping @octocat')).toMatch(/mention/);
    expect(problems('see [x](y)')).toMatch(/link/);
    expect(problems('<img src=x>')).toMatch(/HTML/);
    expect(problems('fixes #12')).toMatch(/reference/);
    expect(problems('https://evil.example')).toMatch(/URL/);
    expect(problems('| a | b |\n| --- | --- |\n| x | y | z |')).toMatch(/3 cells, the header has 2/);
    expect(problems('````\ncontent\n```')).toMatch(/never closed/);
    expect(problems('<!-- private-aws-gitops:cdk-diff:dev -->\nx `<!-- private-aws-gitops:cdk-diff:dev -->`')).toMatch(
      /HTML comment openers/,
    );
  });

  it('accepts what GitHub shows as code or escaped text', () => {
    expect(
      markdownProblems('<!-- private-aws-gitops:cdk-diff:dev -->\n`@octocat` \\[x\\] [run](https://github.com/o/r)'),
    ).toEqual([]);
  });
});
