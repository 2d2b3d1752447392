import { WbemError } from '../../src/domain/wbem-status';

/** The WbemError a call throws; fails the test when the call returns or throws something else. */
export function catchWbem(run: () => unknown): WbemError {
  try {
    run();
  } catch (error) {
    if (error instanceof WbemError) return error;
    throw error;
  }
  throw new Error('expected a WbemError, but the call returned normally');
}
