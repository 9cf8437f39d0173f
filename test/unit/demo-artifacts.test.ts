/**
 * The demo's committed files stay what the code makes: hack/demo/scenarios.yaml is `kubeskippy demo --print`, and
 * hack/demo/operator.yaml holds the settings `kubeskippy demo` runs its operator with.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { demoManifests } from '../../src/cli/demo.js';
import { loadOperatorConfig } from '../../src/config/load.js';
import { DEMO_ADDRESSES, DEMO_NAMESPACE_SELECTOR, DEMO_OPERATOR_SETTINGS } from '../../src/demo/deploy.js';
import { repoRoot } from '../support/api-server.js';

describe('the demo\'s committed files', () => {
  it('hack/demo/scenarios.yaml is the output of kubeskippy demo --print (regenerate: node bin/kubeskippy.js demo --print > hack/demo/scenarios.yaml)', () => {
    expect(readFileSync(path.join(repoRoot, 'hack/demo/scenarios.yaml'), 'utf8')).toBe(`${demoManifests().trimEnd()}\n`);
  });

  it('hack/demo/operator.yaml configures the operator as kubeskippy demo does', async () => {
    const file = path.join(repoRoot, 'hack/demo/operator.yaml');
    const fromFile = await loadOperatorConfig({ flags: { config: file }, env: {}, readFile: (p) => Promise.resolve(readFileSync(p, 'utf8')) });
    const fromCode = await loadOperatorConfig({ flags: { ...DEMO_OPERATOR_SETTINGS, ...DEMO_ADDRESSES, namespaceSelector: DEMO_NAMESPACE_SELECTOR }, env: {} });
    expect(fromFile).toEqual(fromCode);
  });
});
