// Drives a headless Chromium through the DevTools protocol: opens the reference page, checks
// that Swagger UI rendered every operation of the document, runs "Try it out" on one operation
// through the page's own buttons, and checks that every request the page made stayed on this
// origin (the page must work with no internet) and that nothing went to the console as an error
// (a Content-Security-Policy violation would).
//
// Usage: node docs-check.mjs <DevToolsActivePort file> <page URL>  (Node 20 also needs
// --experimental-websocket.)
// Prints one line per check; exits non-zero if any failed.

import { readFileSync } from "node:fs";

const [portFile, pageUrl] = process.argv.slice(2);
const origin = new URL(pageUrl).origin;
const TIMEOUT_MS = 30_000;

const [port, browserPath] = readFileSync(portFile, "utf8").trim().split("\n");
const socket = new WebSocket(`ws://127.0.0.1:${port}${browserPath}`);
await new Promise((resolve, reject) => {
  socket.onopen = resolve;
  socket.onerror = () => reject(new Error("cannot reach Chromium's DevTools endpoint"));
});

let nextId = 0;
const pending = new Map();
const listeners = [];
socket.onmessage = (message) => {
  const data = JSON.parse(message.data);
  if (data.id !== undefined && pending.has(data.id)) {
    const { resolve, reject } = pending.get(data.id);
    pending.delete(data.id);
    data.error ? reject(new Error(JSON.stringify(data.error))) : resolve(data.result);
  } else if (data.method) {
    listeners.forEach((listener) => listener(data));
  }
};
// The browser may close the connection before it answers (Browser.close does, at times): every
// call still waiting then fails, rather than leaving a promise that never settles.
socket.onclose = () => {
  for (const { reject } of pending.values()) reject(new Error("the DevTools connection closed"));
  pending.clear();
};
function send(method, params = {}, sessionId) {
  const id = ++nextId;
  socket.send(JSON.stringify({ id, method, params, sessionId }));
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
}

const requested = [];
const problems = [];
listeners.push(({ method, params }) => {
  if (method === "Network.requestWillBeSent") requested.push(params.request.url);
  if (method === "Runtime.exceptionThrown") problems.push(params.exceptionDetails.text);
  if (method === "Runtime.consoleAPICalled" && params.type === "error") {
    problems.push(params.args.map((a) => a.value ?? a.description).join(" "));
  }
  if (method === "Log.entryAdded" && params.entry.level === "error") problems.push(params.entry.text);
});

const { targetId } = await send("Target.createTarget", { url: "about:blank" });
const { sessionId } = await send("Target.attachToTarget", { targetId, flatten: true });
const page = (method, params) => send(method, params, sessionId);
for (const domain of ["Network", "Runtime", "Log", "Page"]) await page(`${domain}.enable`);

async function evaluate(expression) {
  const { result, exceptionDetails } = await page("Runtime.evaluate", {
    expression,
    awaitPromise: true,
    returnByValue: true,
  });
  if (exceptionDetails) throw new Error(exceptionDetails.exception?.description ?? exceptionDetails.text);
  return result.value;
}

const spec = await (await fetch(new URL("/openapi.json", origin))).json();
const operationIds = Object.values(spec.paths).flatMap((item) =>
  Object.values(item).map((operation) => operation.operationId),
);

let failed = 0;
function check(ok, what, detail = "") {
  console.log(`${ok ? "ok  " : "FAIL"}  ${what}${detail ? `: ${detail}` : ""}`);
  if (!ok) failed += 1;
}

await page("Page.navigate", { url: pageUrl });

// Swagger UI renders each operation as an .opblock showing its operationId.
const rendered = await evaluate(`(async () => {
  const deadline = Date.now() + ${TIMEOUT_MS};
  while (Date.now() < deadline) {
    const shown = [...document.querySelectorAll(".opblock .opblock-summary-operation-id")]
      .map((e) => e.textContent.trim());
    if (shown.length >= ${operationIds.length}) return shown;
    await new Promise((r) => setTimeout(r, 100));
  }
  return [...document.querySelectorAll(".opblock .opblock-summary-operation-id")].map((e) => e.textContent.trim());
})()`);
const missing = operationIds.filter((id) => !rendered.includes(id));
check(missing.length === 0, `all ${operationIds.length} operations rendered`, missing.join(", "));

// Swagger UI lists what it could not resolve or parse in the document in an errors box.
const parseErrors = await evaluate(`document.querySelector(".errors-wrapper")?.textContent ?? ""`);
check(parseErrors === "", "Swagger UI reports no errors in the document", parseErrors.slice(0, 300));

const title = await evaluate(`document.querySelector(".info .title")?.textContent ?? ""`);
check(title.includes(spec.info.title), "the document's title is shown", title);

// "Try it out" on GET /categories, clicking the page's own buttons.
const tried = await evaluate(`(async () => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  async function until(find, what) {
    const deadline = Date.now() + ${TIMEOUT_MS};
    while (Date.now() < deadline) {
      const found = find();
      if (found) return found;
      await sleep(100);
    }
    throw new Error("timed out waiting for " + what);
  }
  const block = await until(() => document.querySelector("#operations-events-list_categories"), "the operation");
  block.querySelector(".opblock-summary-control").click();
  (await until(() => block.querySelector(".try-out__btn"), "Try it out")).click();
  (await until(() => block.querySelector(".btn.execute"), "Execute")).click();
  const status = await until(() => block.querySelector(".live-responses-table tr.response .response-col_status"), "a response");
  return {
    status: status.textContent.trim(),
    url: block.querySelector(".request-url pre")?.textContent.trim() ?? "",
    body: block.querySelector(".live-responses-table tr.response .response-col_description pre")?.textContent ?? "",
  };
})()`);
check(tried.url === `${origin}/categories`, "Try it out calls this origin", tried.url);
check(tried.status === "200" && tried.body.includes('"slug"'), "Try it out got the categories", tried.status);

const foreign = requested.filter((url) => !url.startsWith(`${origin}/`) && !/^(data|blob):/.test(url));
check(foreign.length === 0, `all ${requested.length} requests stayed on ${origin}`, foreign.join(", "));
check(problems.length === 0, "no errors in the console", problems.join(" | "));

await send("Browser.close").catch(() => {});
socket.close();
process.exit(failed ? 1 : 0);
