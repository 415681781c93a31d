import { ApiError } from '../api-error';
import { capabilities } from '../auth';
import type { ProjectRoute } from '../route';

export const projectInfoRoutes: ProjectRoute[] = [
  {
    method: 'GET',
    path: '',
    write: false,
    handle: ({ project }) => ({
      name: project,
      urlName: project,
      organization: 'sandbox-org',
      userProfilesConfiguration: { enabled: false },
    }),
  },
  {
    method: 'GET',
    path: '/profiles/me',
    write: false,
    handle: () => {
      // The sandbox has no user profiles; clients treat 404 as "profiles disabled".
      throw new ApiError(404, 'fake-cdf: user profiles are not enabled');
    },
  },
  {
    method: 'GET',
    path: '/groups',
    write: false,
    handle: ({ access }) => ({
      items: [
        {
          id: 1,
          name: 'sandbox-admins',
          sourceId: 'sandbox',
          capabilities: capabilities(access),
          metadata: {},
        },
      ],
    }),
  },
];
