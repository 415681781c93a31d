// Bundles the workflows once for the whole run; each test file's workers load the bundle instead of re-bundling.
import { buildWorkflowBundle } from '../worker/build-workflow-bundle';
import { BUNDLE_PATH } from './helpers/temporal-server';

export default async function globalSetup(): Promise<void> {
  await buildWorkflowBundle(BUNDLE_PATH);
}
