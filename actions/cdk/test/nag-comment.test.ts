import { ENVIRONMENTS } from '../../../infra/lib/project.js';
import { resourceNames } from '../../../infra/lib/names.js';
import { commentMarker, renderNagFailure } from '../src/render.js';

const ENV = ENVIRONMENTS[0]!;

describe('renderNagFailure', () => {
  it('keeps the sticky marker and lists every finding with what to do', () => {
    const body = renderNagFailure({
      environment: ENV.name,
      commit: '0123456789abcdef0123456789abcdef01234567',
      runUrl: 'https://github.com/o/r/actions/runs/1',
      nag: [
        {
          plugin: 'AwsSolutions',
          rule: 'AwsSolutions-EC23',
          severity: 'error',
          path: `${resourceNames(ENV).networkStack}/Open/Resource`,
          description: 'open to the world',
        },
      ],
    });
    expect(body.startsWith(commentMarker(ENV.name))).toBe(true);
    expect(body).toContain(
      'cdk-nag refused `0123456`: synthesis stopped, so there is no diff yet. See the [run](https://github.com/o/r/actions/runs/1).',
    );
    expect(body).toContain('### cdk-nag: 1 finding');
    expect(body).toContain(`${resourceNames(ENV).networkStack}/Open/Resource`);
    expect(body).toContain('AwsSolutions-EC23');
    expect(body).toContain('Validations.of(construct).acknowledge');
  });
});
