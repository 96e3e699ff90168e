// Drives the server with the official Tasks client, in one protocol era, over HTTP or stdio.
// node driver.mjs '{"era": "modern"|"legacy", "url": ...} or {"era": ..., "command": ..., "args": [...], "env": {...}}'
// Then one JSON command a line on stdin; one JSON answer a line on stdout:
//   {"do": "call", "arguments": {...}, "preference": "prefer"|"none"} -> {"kind", "task"?: the first snapshot}
//   {"do": "settle"}                 -> {"result"} of the last call
//   {"do": "snapshot", "taskId"}     -> the task as tasks/get answers, or {"error": {"code", "message"}}
//   {"do": "cancel", "taskId"}       -> the task after tasks/cancel
//   {"do": "handoff"}                -> {"reference"}: the last task, to resume on another connection
//   {"do": "resume", "reference"}    -> {"result"} once the resumed task ends
//   {"do": "raw", "request", "bare"?} -> the JSON-RPC answer to a request sent as it is (bare: no tasks capability)
import readline from "node:readline";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { createTaskSessionFromClient, resultFromTaskOutcome } from "@modelcontextprotocol/ext-tasks/client";

const TASKS = "io.modelcontextprotocol/tasks";
const MODERN = "2026-07-28";
const config = JSON.parse(process.argv[2]);
const info = { name: "seedance-tasks-test", version: "1" };
const capabilities = config.era === "modern" ? { extensions: { [TASKS]: {} } } : {};
const mode = config.era === "modern" ? { pin: MODERN } : "legacy";

// The SDK client cannot read a 2026 task answer, so the Tasks client sends those requests itself, on the
// same transport, under ids of its own; their answers are taken off the transport before the SDK sees them.
// Installed once the SDK client is connected, in front of the handler it set on the transport.
function rawPath(transport) {
  const pending = new Map();
  const sdkHandler = transport.onmessage;
  let next = 0;
  transport.onmessage = (message, extra) => {
    const waiting = pending.get(message?.id);
    if (!waiting) return sdkHandler?.(message, extra);
    pending.delete(message.id);
    waiting(message);
  };
  return (bare) =>
    new Promise((resolve, reject) => {
      const id = `raw-${++next}`;
      pending.set(id, resolve);
      transport.send({ jsonrpc: "2.0", id, ...bare }).catch((error) => {
        pending.delete(id);
        const text = error?.data?.text ?? error?.text;
        if (typeof text === "string") resolve(JSON.parse(text)); // a JSON-RPC error sent with an HTTP error status
        else reject(error);
      });
    });
}

const transport = config.url
  ? new StreamableHTTPClientTransport(new URL(config.url))
  : new StdioClientTransport({ command: config.command, args: config.args ?? [], env: config.env, stderr: "inherit" });
const client = new Client(info, { capabilities, versionNegotiation: { mode } });
await client.connect(transport);
const rawDispatch = rawPath(transport);
const session = createTaskSessionFromClient(client, {
  endpointId: "seedance-tasks-test",
  ...(config.era === "modern"
    ? { rawDispatch, v2RequestFraming: { protocolVersion: MODERN, clientInfo: info, clientCapabilities: capabilities } }
    : {}),
});

function framed(request, bare) {
  const meta = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientInfo": info,
    "io.modelcontextprotocol/clientCapabilities": bare ? {} : capabilities,
  };
  return { ...request, params: { ...(request.params ?? {}), _meta: meta } };
}

let execution;
const say = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);
const failure = (error) => (console.error(error, error?.cause), { error: { code: error?.code ?? error?.data?.code ?? null, message: String(error?.message ?? error) } });

async function answer(command) {
  switch (command.do) {
    case "call": {
      const preference = command.preference ?? "prefer";
      execution = await session.callTool("generate_text_video", command.arguments, { task: { preference } });
      if (execution.kind !== "task") return { kind: execution.kind };
      return { kind: "task", task: await session.task(execution.handle.taskId).snapshot() };
    }
    case "settle": {
      const { outcome } = await execution.settle();
      return { result: resultFromTaskOutcome(outcome) };
    }
    case "snapshot":
      return await session.task(command.taskId).snapshot();
    case "cancel":
      await session.cancelTask(command.taskId);
      return await session.task(command.taskId).snapshot();
    case "handoff": {
      let reference;
      await execution.handoff((saved) => {
        reference = saved;
      });
      return { reference };
    }
    case "raw": // a request as it goes on the wire, framed for the era; `bare` leaves out the tasks capability
      return await rawDispatch(config.era === "modern" ? framed(command.request, command.bare) : command.request);
    case "resume": {
      const resumed = await session.resumeTask(command.reference);
      const { outcome } = await resumed.settle();
      return { result: resultFromTaskOutcome(outcome) };
    }
    default:
      throw new Error(`unknown command ${command.do}`);
  }
}

for await (const line of readline.createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  try {
    say(await answer(JSON.parse(line)));
  } catch (error) {
    say(failure(error));
  }
}
await session.close();
await client.close();
