// Keeps the Temporal SDK's own logs (worker state changes etc.) out of test output unless they matter.
import { DefaultLogger, Runtime } from '@temporalio/worker';

try {
  Runtime.install({
    logger: new DefaultLogger((process.env.TEST_SDK_LOG_LEVEL as 'WARN' | undefined) ?? 'WARN'),
  });
} catch {
  // Already installed in this module registry.
}
