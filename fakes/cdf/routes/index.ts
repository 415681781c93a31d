import type { ProjectRoute } from '../route';
import { assetRoutes } from './assets';
import { containerRoutes } from './containers';
import { dataModelRoutes } from './data-models';
import { dataSetRoutes } from './data-sets';
import { projectInfoRoutes } from './project-info';
import { sessionRoutes } from './sessions';
import { spaceRoutes } from './spaces';
import { transformationRoutes } from './transformations';
import { viewRoutes } from './views';

export const projectRoutes: readonly ProjectRoute[] = [
  ...projectInfoRoutes,
  ...spaceRoutes,
  ...containerRoutes,
  ...viewRoutes,
  ...dataModelRoutes,
  ...transformationRoutes,
  ...dataSetRoutes,
  ...assetRoutes,
  ...sessionRoutes,
];

const byKey = new Map(projectRoutes.map((r) => [`${r.method} ${r.path}`, r]));

export function findProjectRoute(method: string, path: string): ProjectRoute | undefined {
  return byKey.get(`${method.toUpperCase()} ${path}`);
}
