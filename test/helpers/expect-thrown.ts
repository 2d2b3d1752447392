/**
 * The one way a test asks "this must throw": the error of the expected class, or the test fails
 * (when the call returns normally, or throws something else — which is rethrown, not swallowed).
 */

/** Any error class, abstract or not, whatever its constructor takes. */
type ErrorClass<E extends Error> = abstract new (...args: never[]) => E;

/** The error of class `type` that `run` throws synchronously. */
export function thrown<E extends Error>(type: ErrorClass<E>, run: () => unknown): E {
  try {
    run();
  } catch (error) {
    if (error instanceof type) return error;
    throw error;
  }
  throw new Error(`expected a ${type.name}, but the call returned normally`);
}

/** The error of class `type` that `promise` rejects with. */
export async function rejected<E extends Error>(
  type: ErrorClass<E>,
  promise: PromiseLike<unknown>,
): Promise<E> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof type) return error;
    throw error;
  }
  throw new Error(`expected a ${type.name}, but the call succeeded`);
}
