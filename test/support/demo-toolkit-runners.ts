/**
 * The real Toolkit (cdf 0.9.28) on the demo configuration repository, for its `prod` environment on a local fake
 * CDF: one runner that spawns each command fresh and one that forks it from a warm helper of `pool`, with the same
 * configuration, so the two can be compared command for command.
 */
import path from 'node:path';
import type { WarmPythonPool } from '../../activities/process/warm-python';
import { CliToolkitRunner } from '../../activities/toolkit/toolkit-runner';
import { parseConfig } from '../../config/load-config';
import { ensureDemoRepo } from '../../scripts/demo-repo';
import { TOOLKIT_CACHE } from '../helpers/stack';

export const CDF_0_9 = path.join(TOOLKIT_CACHE, '0.9.28', 'bin', 'cdf');

export interface DemoToolkitRunners {
  /** The demo repository's work tree (v2, which pins 0.9.28). */
  repoDir: string;
  fresh: CliToolkitRunner;
  warm: CliToolkitRunner;
}

export function demoToolkitRunners(
  dir: string,
  cdfUrl: string,
  pool: WarmPythonPool,
  token: string,
): DemoToolkitRunners {
  const repoDir = ensureDemoRepo(path.join(dir, 'repo')).dir;
  const config = parseConfig(
    {
      temporal: { address: 'unused', namespace: 'default', taskQueue: 'q', uiUrl: 'http://127.0.0.1:8233' },
      repository: { url: repoDir, organizationDir: 'org' },
      dataDir: path.join(dir, 'data'),
      toolkit: { profile: 'cdf', executable: CDF_0_9 },
      environments: {
        prod: {
          cdfProject: 'demo-prod',
          baseUrl: cdfUrl,
          credentials: { flow: 'token', tokenEnv: 'CDF_TOKEN_PROD' },
          approval: { timeout: '1h', approvers: ['bob', 'carol'], requiredApprovals: 1 },
        },
      },
    },
    path.join(dir, 'promotion.yaml'),
  );
  const secrets = { CDF_TOKEN_PROD: token };
  return {
    repoDir,
    fresh: new CliToolkitRunner({ config, secrets }),
    warm: new CliToolkitRunner({ config, secrets, warm: pool }),
  };
}
