import { classifyToolkitFailure } from '../../activities/toolkit/failure-classifier';

describe('classifyToolkitFailure', () => {
  test.each([
    'CogniteAPIError: 429 Too Many Requests',
    'HTTP 503 Service Unavailable',
    'Service Unavailable',
    '502 Bad Gateway from upstream',
    'ReadTimeout: the read operation timed out',
    'requests.exceptions.ConnectionError: ECONNRESET',
    'Connection reset by peer',
    'httpx.ConnectError: connection refused',
    'RemoteProtocolError: server disconnected without sending a response',
  ])('transient: %p', (out) => {
    expect(classifyToolkitFailure(`deploying...\n${out}\n`, false)).toBe('transient');
  });

  test.each([
    "ERROR (AuthorizationError): Don't have correct access rights",
    'ERROR (ToolkitValidationError): config.prod.yaml is missing variable x',
    'CogniteAPIError: 400 Bad Request | invalid view reference',
    '409 Conflict: duplicate externalId',
    'Error: No such option: --dry-runn',
    'HTTP 401 Unauthorized',
    '403 Forbidden',
  ])('permanent: %p', (out) => {
    expect(classifyToolkitFailure(out, false)).toBe('permanent');
  });

  test('an auth error that also mentions 503 / retries stays permanent', () => {
    expect(
      classifyToolkitFailure(
        'Retrying after 503 Service Unavailable...\nERROR (AuthorizationError): token lacks transformationsAcl',
        false,
      ),
    ).toBe('permanent');
  });

  test('a validation error mentioning a timeout setting stays permanent', () => {
    expect(classifyToolkitFailure('ERROR (ToolkitValidationError): timeout must be an integer', false)).toBe(
      'permanent',
    );
  });

  test('unrecognised output is permanent (do not retry what we do not understand)', () => {
    expect(classifyToolkitFailure('Traceback: KeyError: modules', false)).toBe('permanent');
    expect(classifyToolkitFailure('', false)).toBe('permanent');
  });

  test('numbers that merely contain 503/429 are not status codes', () => {
    expect(classifyToolkitFailure('deployed 15030 nodes; asset 4290 skipped', false)).toBe('permanent');
  });

  test('timedOut flag wins over anything in the output', () => {
    expect(classifyToolkitFailure('ERROR (AuthorizationError)', true)).toBe('transient');
    expect(classifyToolkitFailure('', true)).toBe('transient');
  });
});

describe('status codes only count where an HTTP status is printed', () => {
  test.each([
    ['Request failed with status code 503: upstream unavailable', 'transient'],
    [
      'ERROR (ResourceCreationError): Failed to create 1 spaces due to API error: 503 Service Unavailable',
      'transient',
    ],
    ['httpx.HTTPStatusError: Server error 502 Bad Gateway', 'transient'],
    [
      'ERROR (ResourceUpdateError): Request failed with status code 400: field x cannot be updated',
      'permanent',
    ],
  ])('%s -> %s', (text, expected) => {
    expect(classifyToolkitFailure(text, false)).toBe(expected);
  });

  test('a count in a summary line is not read as a status', () => {
    // 503 and 429 here are resource counts; nothing says the network failed, so retrying would not help.
    expect(classifyToolkitFailure('assets would create 503 of 503 total\nsome unexpected crash', false)).toBe(
      'permanent',
    );
    expect(classifyToolkitFailure('Deployed 401 assets, then: KeyError: externalId', false)).toBe(
      'permanent',
    );
    expect(classifyToolkitFailure('Deployed 429 assets before a ValueError', false)).toBe('permanent');
  });
});
