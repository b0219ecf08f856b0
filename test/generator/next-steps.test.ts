import { describe, expect, it } from 'vitest';
import type { Answers } from '../../generator/answers.js';
import { cdPathFor, nextSteps } from '../../generator/next-steps.js';

const base: Answers = { targetDir: '/work/my-app', name: 'my-app', redis: 'standalone', instances: 1, pm: 'npm', install: true, git: true };

describe('next steps', () => {
  it('uses a relative cd inside cwd, an absolute one outside, none for cwd itself', () => {
    expect(cdPathFor('/work/my-app', '/work')).toBe('my-app');
    expect(cdPathFor('/elsewhere/my-app', '/work')).toBe('/elsewhere/my-app');
    expect(cdPathFor('/work', '/work')).toBe('.');
    expect(cdPathFor('/work/my projects/app', '/work')).toBe(`'my projects/app'`);
  });

  it("lists install only when it did not happen, in the chosen manager's syntax", () => {
    const installed = nextSteps({ ...base, pm: 'bun' }, { cwd: '/work', installed: true });
    expect(installed).not.toMatch(/bun install/);
    expect(installed).toMatch(/^ {2}cd my-app$/m);
    expect(installed).toMatch(/bun run dev +# one instance/);
    expect(installed).toMatch(/bun run build && bun run stack start/);
    expect(installed).toMatch(/docker compose up +# 1 app instance \+ nginx \+ Redis$/m);

    const notInstalled = nextSteps({ ...base, redis: 'cluster', instances: 5 }, { cwd: '/work', installed: false });
    expect(
      notInstalled
        .split('\n')
        .slice(1, 4)
        .map((line) => line.trim().split(/\s+#/)[0]),
    ).toEqual(['cd my-app', 'npm install', 'npm run dev']);
    expect(notInstalled).toMatch(/5 app instances \+ nginx \+ Redis Cluster/);
    expect(notInstalled).toMatch(/npm run build && npm run stack -- start/);
  });
});
