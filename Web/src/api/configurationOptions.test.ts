import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiClient } from './client';
import { CONFIGURATION_OPTIONS } from '../test/fixtures';

afterEach(() => vi.unstubAllGlobals());

describe('ApiClient.configurationOptions', () => {
  it('reads the options from GET /api/v1/configuration/options with the key', async () => {
    const fetchMock = vi.fn(async (_url: string, _init: RequestInit) => new Response(JSON.stringify(CONFIGURATION_OPTIONS),
      { status: 200, headers: { 'Content-Type': 'application/json' } }));
    vi.stubGlobal('fetch', fetchMock);

    expect(await new ApiClient('key').configurationOptions()).toEqual(CONFIGURATION_OPTIONS);

    const [url, init] = fetchMock.mock.calls[0];
    expect(url).toBe('/api/v1/configuration/options');
    expect(init).toMatchObject({ method: 'GET', headers: { Authorization: 'Bearer key' } });
  });
});
