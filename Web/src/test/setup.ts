import '@testing-library/jest-dom/vitest';
import { afterEach } from 'vitest';
import { cleanup, configure } from '@testing-library/react';
import { setServedOptions } from '../components/configuration/servedOptions';
import { CONFIGURATION_OPTIONS } from './fixtures';

afterEach(() => cleanup());

// jsdom has no layout: Ant Design asks for these.
if (!window.matchMedia) {
  window.matchMedia = (query: string) => ({
    matches: false, media: query, onchange: null,
    addListener: () => undefined, removeListener: () => undefined,
    addEventListener: () => undefined, removeEventListener: () => undefined, dispatchEvent: () => false,
  });
}
if (!('ResizeObserver' in window)) {
  (window as unknown as { ResizeObserver: unknown }).ResizeObserver = class {
    observe() {}
    unobserve() {}
    disconnect() {}
  };
}
const getComputedStyle = window.getComputedStyle;
// jsdom cannot style pseudo-elements; the components never need them.
window.getComputedStyle = (element: Element) => getComputedStyle(element);

// Ant Design's forms are heavy in jsdom; a loaded machine needs patience, not fixed sleeps.
configure({ asyncUtilTimeout: 10_000 });

// The page loads the configuration options from the API before the form shows; here the API has answered.
setServedOptions(CONFIGURATION_OPTIONS);
