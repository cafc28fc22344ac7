// Drives the TypeScript SDK `together-ai` (the version pinned in package.json) against a live emulator.
//
//   node flow.mjs '<json config>'
//
// Config: base_url (the emulator's URL + /v1), control_url (its URL), key, steps ("flow", "errors" or
// "retries"), and for "flow": type, parameters (without input_data_file_path) and dataset (a local
// .jsonl path). Optional: upload_base_url (default base_url), duplex_fix (default true), loader
// ("require", the default, or "import").
//
// Every step's result, or what it threw, goes into one JSON object printed after "@@RESULT@@";
// the assertions live in tests/contract/test_typescript.py.

import { createRequire } from "node:module";

const cfg = JSON.parse(process.argv[2]);
const out = { failed_step: null, failure: null };
const TERMINAL = ["completed", "error", "user_error"];

// Node's fetch refuses a stream body without `duplex: "half"`, and the SDK's upload PUTs a file
// stream through the global fetch without it: add it there (the client's `fetch` option is not used
// by files.upload).
function withStreamDuplex(fetch) {
  return (input, init) =>
    fetch(input, typeof init?.body?.pipe === "function" ? { ...init, duplex: "half" } : init);
}

function describe(error) {
  if (error instanceof Error) {
    const seen = { name: error.constructor.name, message: error.message };
    if ("status" in error) {
      seen.status = error.status ?? null;
      seen.error = error.error ?? null;
    }
    return seen;
  }
  return { rejected: error ?? null };
}

async function step(name, run, { expectError = false } = {}) {
  try {
    const value = await run();
    out[name] = expectError ? { returned: value ?? null } : (value ?? null);
  } catch (error) {
    out[name] = describe(error);
    if (!expectError && out.failed_step === null) {
      out.failed_step = name;
      out.failure = out[name];
    }
  }
  return out[name];
}

async function advance(seconds) {
  const r = await fetch(`${cfg.control_url}/_emulator/clock/advance`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ seconds }),
  });
  if (r.status !== 200) throw new Error(`clock advance answered ${r.status}: ${await r.text()}`);
}

async function loadTogether() {
  // The SDK's ES-module build cannot upload (its file helpers call `require`): use the CommonJS one.
  if ((cfg.loader ?? "require") === "require") return createRequire(import.meta.url)("together-ai").default;
  return (await import("together-ai")).default;
}

async function flow(client) {
  const upload = await step("upload", () => client.files.upload(cfg.dataset, "eval"));
  if (out.failed_step) return;
  await step("file_retrieve", () => client.files.retrieve(upload.id));
  const parameters = { ...cfg.parameters, input_data_file_path: upload.id };
  const created = await step("create", () => client.evals.create({ type: cfg.type, parameters }));
  if (out.failed_step) return;
  const id = created.workflow_id;
  await step("status_pending", () => client.evals.status(id));
  await step("retrieve_pending", () => client.evals.retrieve(id));
  await step("list_pending", () => client.evals.list({ status: "pending" }));

  const seen = [];
  await step("poll", async () => {
    for (let polls = 0; polls < 200; polls++) {
      const { status } = await client.evals.status(id);
      if (seen.at(-1) !== status) seen.push(status);
      if (TERMINAL.includes(status)) return seen;
      await advance(1); // the emulator's manual clock: no waiting
    }
    throw new Error(`still ${seen.at(-1)} after 200 polls`);
  });
  const done = await step("status_done", () => client.evals.status(id));
  await step("retrieve_done", () => client.evals.retrieve(id));
  await step("list_completed", () => client.evals.list({ status: "completed" }));
  await step("list_all", () => client.evals.list());
  await step("list_limit_1", () => client.evals.list({ limit: 1 }));
  if (out.failed_step) return;

  const resultFileId = done.results.result_file_id;
  await step("content", async () => {
    const response = await client.files.content(resultFileId);
    return { content_type: response.headers.get("content-type"), text: await response.text() };
  });
  await step("result_file", () => client.files.retrieve(resultFileId));
  await step("files_list", () => client.files.list());
  await step("delete", () => client.files.delete(upload.id));
  await step("retrieve_deleted", () => client.files.retrieve(upload.id), { expectError: true });
}

async function errors(client, Together) {
  const unknownJob = "eval-ffff-1767225600";
  const unknownFile = "file-00000000-0000-4000-8000-000000000000";
  const judge = {
    model: "meta-llama/Llama-3.3-70B-Instruct-Turbo",
    model_source: "serverless",
    system_template: "Grade it.",
  };
  const expect = { expectError: true };
  await step("retrieve_unknown", () => client.evals.retrieve(unknownJob), expect);
  await step("status_unknown", () => client.evals.status(unknownJob), expect);
  await step("file_unknown", () => client.files.retrieve(unknownFile), expect);
  await step("content_unknown", () => client.files.content(unknownFile), expect);
  await step("delete_unknown", () => client.files.delete(unknownFile), expect);
  const common = { judge, model_to_evaluate: "response", input_data_file_path: unknownFile };
  const score = { ...common, min_score: 10, max_score: 1, pass_threshold: 5 };
  await step("score_min_above_max", () => client.evals.create({ type: "score", parameters: score }), expect);
  const classify = { ...common, labels: ["good"], pass_labels: ["good"] };
  await step("classify_one_label", () => client.evals.create({ type: "classify", parameters: classify }), expect);
  await step("unknown_type", () => client.evals.create({ type: "rank", parameters: classify }), expect);
  await step("list_bad_limit", () => client.evals.list({ limit: 0 }), expect);
  const rootClient = new Together({ apiKey: cfg.key, baseURL: cfg.control_url, maxRetries: 0 });
  await step("base_url_without_v1", () => rootClient.evals.list(), expect);
}

// Run after the test installed fault rules: a 503 on evals.list, a 500 on files.list and a 429 with
// x-should-retry: false on evals.retrieve, each once.
async function retries(client) {
  await step("list_after_503", () => client.evals.list());
  await step("files_list_after_500", () => client.files.list(), { expectError: true });
  await step("retrieve_after_429", () => client.evals.retrieve("eval-ffff-1767225600"), { expectError: true });
}

async function main() {
  process.env.TOGETHER_API_BASE_URL = cfg.upload_base_url ?? cfg.base_url; // read when the SDK loads
  if (cfg.duplex_fix ?? true) globalThis.fetch = withStreamDuplex(globalThis.fetch);
  // The ES-module build's broken upload throws again after rejecting, unhandled: record it instead.
  process.on("unhandledRejection", (reason) => {
    out.unhandled_rejection = describe(reason);
  });
  const Together = await loadTogether();
  const client = new Together({ apiKey: cfg.key, baseURL: cfg.base_url });
  if (cfg.steps === "errors") await errors(client, Together);
  else if (cfg.steps === "retries") await retries(client);
  else await flow(client);
  await new Promise((resolve) => setImmediate(resolve)); // let a pending rejection surface
  console.log("@@RESULT@@" + JSON.stringify(out));
}

await main();
