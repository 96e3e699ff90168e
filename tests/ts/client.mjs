// Drives seedance-mcp over stdio with the official TypeScript MCP client and prints what it saw as JSON.
// The SDK validates a tool's structuredContent against its outputSchema itself: a mismatch throws.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const [command, ...args] = process.argv.slice(2);
const transport = new StdioClientTransport({ command, args, env: process.env, stderr: "inherit" });
const client = new Client({ name: "seedance-ts-test", version: "1.0.0" });
await client.connect(transport);

const { tools } = await client.listTools();
const progress = [];
const result = await client.callTool(
  {
    name: "generate_text_video",
    arguments: { prompt: "a paper boat on a stream", duration: "4", resolution: "480p", generate_audio: false },
  },
  undefined,
  { onprogress: (update) => progress.push(update), timeout: 120000 },
);
const schema = tools.find((tool) => tool.name === "generate_text_video").outputSchema;
console.log(
  JSON.stringify({
    server: client.getServerVersion(),
    tools: tools.map((tool) => tool.name),
    requiredByOutputSchema: schema.required,
    progress,
    isError: result.isError ?? false,
    contentTypes: result.content.map((block) => block.type),
    structured: result.structuredContent,
  }),
);
await client.close();
