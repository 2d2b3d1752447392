import { WbemServicesService } from '../../generated/wbem/v1/services';
import { methodNameOf, namedHandlers } from '../../src/transport/grpc/registration';

describe('namedHandlers', () => {
  test('makes each handler with the method name its path in the definition ends in', () => {
    const handlers = namedHandlers<{ alpha: string; beta: string }>(
      { alpha: { path: '/pkg.v1.Service/Alpha' }, beta: { path: '/pkg.v1.Service/Beta' } },
      { alpha: (method) => `alpha as ${method}`, beta: (method) => `beta as ${method}` },
    );
    expect(handlers).toEqual({ alpha: 'alpha as Alpha', beta: 'beta as Beta' });
  });
});

test('WbemServices calls are logged and counted under their proto method names', () => {
  // The `method` of the access log and the metric labels: dashboards and alerts select on these.
  const names = Object.entries(WbemServicesService).map(([key, m]) => [key, methodNameOf(m.path)]);
  expect(Object.fromEntries(names)).toEqual({
    putClassAsync: 'PutClassAsync',
    putClass: 'PutClass',
    getClass: 'GetClass',
    deleteClass: 'DeleteClass',
    enumClasses: 'EnumClasses',
    createNamespace: 'CreateNamespace',
    deleteNamespace: 'DeleteNamespace',
    enumNamespaces: 'EnumNamespaces',
    compileMof: 'CompileMof',
    putInstance: 'PutInstance',
    getInstance: 'GetInstance',
    deleteInstance: 'DeleteInstance',
    enumInstances: 'EnumInstances',
    watchClassEvents: 'WatchClassEvents',
    enumQualifiers: 'EnumQualifiers',
  });
});
