// Copies the buf-built descriptor set next to the compiled transport, where reflection looks first.
const { copyFileSync, mkdirSync } = require('node:fs');
const { join } = require('node:path');
const root = join(__dirname, '..');
const target = join(root, 'dist', 'src', 'transport', 'grpc');
mkdirSync(target, { recursive: true });
copyFileSync(join(root, 'generated', 'descriptor_set.binpb'), join(target, 'descriptor_set.binpb'));
