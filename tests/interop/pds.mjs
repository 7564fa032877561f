// Runs the reference atproto stack from @atproto/dev-env (PLC, PDS, AppView "bsky",
// bsync, ozone) in one Node 22 process, creates the test accounts, writes them as
// shell assignments to the file named by $PDS_ENV_OUT, then keeps running until
// SIGTERM/SIGINT. Needs DB_POSTGRES_URL (AppView, bsync and ozone use Postgres).
//
// Usage: node pds.mjs   (servers.sh sets the environment)
import net from 'node:net'
import fs from 'node:fs'

// dev-env binds every service to all interfaces (plain `listen(port)`) and has no
// option for the bind address, so default every listen() in this process to loopback.
// This has to run before dev-env is loaded, hence the dynamic import below.
const LOOPBACK = '127.0.0.1'
const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  const [a, b] = args
  if (a === undefined || typeof a === 'function') {
    args.splice(0, a === undefined ? 1 : 0, 0, LOOPBACK) // listen() / listen(cb)
  } else if (typeof a === 'number' || (typeof a === 'string' && /^\d+$/.test(a))) {
    if (typeof b !== 'string') args.splice(1, 0, LOOPBACK) // listen(port[, backlog][, cb])
  } else if (a && typeof a === 'object' && !a.path && !a.host && !a._handle && !a.fd) {
    args[0] = { ...a, host: LOOPBACK } // listen({port})
  }
  if (process.env.PDS_DEBUG_LISTEN) console.error('listen', JSON.stringify(args.filter((x) => typeof x !== 'function')), new Error().stack.split('\n').slice(2, 5).join(' | '))
  return listen.apply(this, args)
}

// TestNetwork asserts REDIS_HOST is set but the AppView in this version never
// connects to it (only a caching layer we don't enable would), so no Redis is needed.
process.env.REDIS_HOST ??= '127.0.0.1:1'

const { TestNetwork } = await import('@atproto/dev-env')

const t0 = Date.now()
const network = await TestNetwork.create({
  dbPostgresSchema: 'interop', // the cluster is fresh per start; [A-Za-z_] only
  // dev-env leaves the PDS's rate limits off. ATP_RATE_LIMITS=1 turns on the
  // production limits (in-memory: createSession 30/5 min per handle, writes
  // 5000 points/h per DID, 3000 req/5 min per IP) so a test can provoke a real 429.
  pds: { rateLimitsEnabled: process.env.ATP_RATE_LIMITS === '1' },
})
const startMs = Date.now() - t0

const PASSWORD = 'interop-pass'
const agent = network.pds.getAgent()
const accounts = {}
for (const [key, handle] of [['BRAND', 'carebridge.test'], ['CUSTOMER', 'customer.test']]) {
  const res = await agent.com.atproto.server.createAccount({
    handle,
    email: `${handle}@example.com`,
    password: PASSWORD,
  })
  const session = await network.pds.getAgent()
  await session.login({ identifier: handle, password: PASSWORD })
  // The bot should log in with an app password, as in production.
  const app = await session.com.atproto.server.createAppPassword({ name: 'carebridge' })
  accounts[key] = { handle, did: res.data.did, appPassword: app.data.password }
}
// Let the AppView index the new accounts so profile lookups and notifications work.
await network.processAll()

const out = [
  `ATP_PDS_URL=http://127.0.0.1:${network.pds.port}`,
  `ATP_APPVIEW_URL=http://127.0.0.1:${network.bsky.port}`,
  `ATP_PLC_URL=http://127.0.0.1:${network.plc.port}`,
  `ATP_OZONE_URL=http://127.0.0.1:${network.ozone.port}`,
  `ATP_PASSWORD=${PASSWORD}`,
  `ATP_START_MS=${startMs}`,
  `ATP_RATE_LIMITS=${process.env.ATP_RATE_LIMITS === '1' ? 1 : 0}`,
]
for (const [key, a] of Object.entries(accounts)) {
  out.push(`ATP_${key}_HANDLE=${a.handle}`, `ATP_${key}_DID=${a.did}`,
    `ATP_${key}_APP_PASSWORD=${a.appPassword}`)
}
const target = process.env.PDS_ENV_OUT
fs.writeFileSync(`${target}.tmp`, out.join('\n') + '\n')
fs.renameSync(`${target}.tmp`, target) // servers.sh polls for this file: write it atomically
console.log(`pds.mjs: ready in ${startMs} ms`)

const stop = async () => {
  await network.close().catch((err) => console.error('pds.mjs: close failed', err))
  process.exit(0)
}
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
