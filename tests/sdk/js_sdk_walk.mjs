// The official Microsoft Graph JavaScript SDK (@microsoft/microsoft-graph-client, from npm)
// against `deltascope emulator --tls`.
//
// The SDK sends the access token only to https URLs of Graph or of its `customHosts`: against
// an http emulator it sends none (this script checks that the emulator then answers 401). Over
// https, trusting the emulator's CA the Node way (NODE_EXTRA_CA_CERTS, read at start: the script
// starts the emulator, then runs itself again with it set), it walks the delta rounds of users,
// groups and contacts to their deltaLinks, changes one object of each through the emulator's
// control API, and walks one more round of each from its deltaLink, which must bring the change.
// Every link must be https on the emulator. Prints OK, or FAILED: ... and exits 1.
//
// Run by tests/sdk/run_js_sdk.sh (which installs the SDK into target/js-sdk).
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(import.meta.url);

function fail(what) {
  throw new Error(what);
}

function check(cond, what) {
  if (!cond) fail(what);
}

/** `deltascope emulator [args]`: the process and the lines it printed first. */
function startEmulator(bin, args, lines) {
  return new Promise((resolve, reject) => {
    const proc = spawn(bin, ["emulator", "--listen", "127.0.0.1:0", ...args], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    const got = [];
    const rl = createInterface({ input: proc.stdout });
    rl.on("line", (l) => {
      got.push(l.trim());
      if (got.length === lines) resolve({ proc, lines: got });
    });
    proc.on("exit", (code) => reject(new Error(`the emulator exited (${code}) after ${JSON.stringify(got)}`)));
  });
}

const LISTENING = "deltascope emulator listening on ";
const CA_LINE = "deltascope emulator CA certificate: ";

async function parent(bin) {
  const tmp = mkdtempSync(join(tmpdir(), "deltascope-js-sdk-"));
  const procs = [];
  try {
    // 1. Over http the SDK sends no token.
    const plain = await startEmulator(bin, [], 1);
    procs.push(plain.proc);
    const httpBase = plain.lines[0].slice(LISTENING.length);
    check(httpBase.startsWith("http://"), `not http: ${httpBase}`);
    // 2. Over https, with the emulator's CA.
    const ca = join(tmp, "emulator-ca.pem");
    const tls = await startEmulator(bin, ["--tls", "--ca-out", ca, "--contacts", "120", "--users", "60",
      "--groups", "8", "--page-size", "25"], 2);
    procs.push(tls.proc);
    const base = tls.lines[0].slice(LISTENING.length);
    check(base.startsWith("https://"), `not https: ${base}`);
    check(tls.lines[1] === CA_LINE + ca, `CA line: ${tls.lines[1]}`);
    const child = spawnSync(process.execPath, [here, "--walk", base, httpBase], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: ca },
      stdio: "inherit",
    });
    return child.status ?? 1;
  } finally {
    for (const p of procs) p.kill("SIGTERM");
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function walkRound(client, first) {
  const items = [];
  let pages = 0;
  let res = await client.api(first).get();
  for (;;) {
    pages += 1;
    items.push(...res.value);
    const next = res["@odata.nextLink"];
    const delta = res["@odata.deltaLink"];
    if (delta) return { items, pages, delta };
    check(next, "a page with neither nextLink nor deltaLink");
    check(pages < 100, "the round does not end");
    res = await client.api(next).get();
  }
}

async function walk(base, httpBase) {
  const { Client } = await import("@microsoft/microsoft-graph-client");
  const host = new URL(base).hostname;
  const state = await (await fetch(`${base}/_emulator/state`)).json();
  const tenant = state.tenantId;
  // Client credentials at the emulator's token endpoint (any client id and secret).
  const tokenRes = await fetch(`${base}/${tenant}/oauth2/v2.0/token`, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: "js-sdk-walk",
      client_secret: "any-secret-the-demo-identity-accepts",
      scope: `${base}/.default`,
    }),
  });
  check(tokenRes.ok, `token endpoint: HTTP ${tokenRes.status}`);
  const token = (await tokenRes.json()).access_token;
  let asked = 0;
  const authProvider = { getAccessToken: async () => { asked += 1; return token; } };
  const summary = [];

  // Over http: the SDK does not send the token; the emulator answers 401.
  const plain = Client.initWithMiddleware({ authProvider, baseUrl: `${httpBase}/`, customHosts: new Set([new URL(httpBase).hostname]) });
  try {
    await plain.api("/contacts/delta").version("v1.0").get();
    fail("the SDK sent a request over http with a token, or the emulator accepted none");
  } catch (e) {
    check(e.statusCode === 401, `over http: expected 401, got ${e.statusCode}: ${e.message}`);
    summary.push("over http: no token sent (401)");
  }
  check(asked === 0, "the SDK asked for a token for an http URL");

  const client = Client.initWithMiddleware({ authProvider, baseUrl: `${base}/`, customHosts: new Set([host]) });
  const rounds = {};
  for (const [name, count] of [["users", 60], ["groups", 8], ["contacts", 120]]) {
    const r = await walkRound(client, `${base}/v1.0/${name}/delta`);
    const ids = new Set(r.items.map((i) => i.id));
    check(ids.size === count, `${name}: ${ids.size} objects, expected ${count}`);
    check(r.delta.startsWith(`${base}/v1.0/${name}/delta?`), `${name}: deltaLink ${r.delta}`);
    rounds[name] = r.delta;
    summary.push(`${name}: full round ${r.pages} page(s), ${r.items.length} items (${ids.size} objects)`);
  }
  check(asked > 0, "the SDK never asked for the token");

  const changed = {
    users: state.organizers[0],
    groups: state.sampleGroupIds[0],
    contacts: state.sampleContactIds[0],
  };
  for (const [name, body] of [["users", { jobTitle: "JS SDK walker" }], ["groups", { description: "changed by the JS SDK walk" }], ["contacts", { jobTitle: "JS SDK walker" }]]) {
    const r = await fetch(`${base}/_emulator/${name}/${changed[name]}`, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    check(r.ok, `PATCH ${name}: HTTP ${r.status}`);
  }
  for (const name of ["users", "groups", "contacts"]) {
    const r = await walkRound(client, rounds[name]);
    check(r.items.some((i) => i.id === changed[name]), `${name}: the change is not in the next round`);
    summary.push(`${name}: next round ${r.pages} page(s), ${r.items.length} change(s)`);
  }
  const pkg = await import("@microsoft/microsoft-graph-client/package.json", { with: { type: "json" } }).catch(() => null);
  console.log(`@microsoft/microsoft-graph-client ${pkg?.default?.version ?? ""} against ${base}:`);
  for (const line of summary) console.log(`  ${line}`);
  console.log("OK");
  return 0;
}

const args = process.argv.slice(2);
try {
  const code = args[0] === "--walk" ? await walk(args[1], args[2]) : await parent(args[0] ?? "target/debug/deltascope");
  process.exit(code);
} catch (e) {
  console.log(`FAILED: ${e.message}`);
  process.exit(1);
}
