/**
 * The reference the issue names: a minimal Koa app (one @koa/router route) doing the ceiling's work.
 * The gap between it and the ceiling is Koa's own cost; the gap between it and the service is ours.
 */
import { createServer } from 'node:http';
import Koa from 'koa';
import Router from '@koa/router';
import { announceListening, signedJsonIsValid } from './bare-check.js';

const secret = process.env.BENCH_SECRET ?? 'bench-secret';

const router = new Router();
router.post('/api/webhooks/:source', async (ctx) => {
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
  if (!signedJsonIsValid(secret, ctx.req.headers, Buffer.concat(chunks))) {
    ctx.status = 401;
    return;
  }
  ctx.status = 201;
  ctx.body = { status: 'accepted' };
});
const app = new Koa();
app.use(router.routes());
// eslint-disable-next-line @typescript-eslint/no-misused-promises -- Koa's callback handles its own errors: the promise never rejects
const server = createServer(app.callback());
server.listen(0, '127.0.0.1', () => announceListening(server.address()));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
