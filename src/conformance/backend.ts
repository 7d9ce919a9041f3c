import type { Store } from '../store/store.js';

/**
 * A backend under test supplies `open()`, which returns a fresh, empty store. The store suite
 * (./store/) and the engine suite (./engine/) both run once per backend.
 */
export interface BackendUnderTest {
  name: string;
  open(): Promise<Store>;
}
