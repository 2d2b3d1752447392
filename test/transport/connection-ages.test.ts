import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { once } from 'node:events';
import { ConnectionAges } from '../../src/transport/grpc/connection-ages';

const AGE_AND_GRACE = {
  'grpc.max_connection_age_ms': 600_000,
  'grpc.max_connection_age_grace_ms': 30_000,
};

describe('ConnectionAges', () => {
  test('grpc-js gets a grace longer by the age jitter span (0.2 × age); nothing changes without both limits', () => {
    const ages = new ConnectionAges(AGE_AND_GRACE);
    expect(ages.serverOptions({ ...AGE_AND_GRACE, 'grpc.keepalive_time_ms': 1 })).toEqual({
      'grpc.max_connection_age_ms': 600_000,
      'grpc.max_connection_age_grace_ms': 150_000,
      'grpc.keepalive_time_ms': 1,
    });
    ages.close();
    for (const options of [
      { 'grpc.max_connection_age_ms': 600_000 },
      { 'grpc.max_connection_age_grace_ms': 30_000 },
      { ...AGE_AND_GRACE, 'grpc.max_connection_age_ms': 2 ** 31 - 1 },
    ]) {
      const none = new ConnectionAges(options);
      expect(none.serverOptions(options)).toBe(options);
      none.close();
    }
  });

  test("a connection's horizon is 1.1 × age + grace / 2 after it was accepted, on the server's port only", async () => {
    const ages = new ConnectionAges(AGE_AND_GRACE);
    // Another server's view: it hears the same accepted socket, on a port it does not serve.
    const other = new ConnectionAges(AGE_AND_GRACE);
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    ages.listening(port);
    other.listening(port + 1);
    const now = jest.spyOn(Date, 'now').mockReturnValue(1_000_000);
    const accepted = once(server, 'connection') as Promise<[Socket]>;
    const client = createConnection(port, '127.0.0.1');
    await once(client, 'connect');
    const [socket] = await accepted;
    now.mockRestore();
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    expect(ages.horizonOf(peer)).toBe(1_000_000 + 660_000 + 15_000);
    expect(ages.horizonOf('127.0.0.1:1')).toBeUndefined();
    expect(other.horizonOf(peer)).toBeUndefined();
    other.close();
    client.destroy();
    await once(socket, 'close');
    expect(ages.horizonOf(peer)).toBeUndefined();
    ages.close();
    server.close();
  });
});
