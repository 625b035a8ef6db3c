// A small MCP server for the list_changed test: it offers `add-tool`, which registers a new
// tool `added` (the SDK then sends notifications/tools/list_changed).
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";

const server = new McpServer({ name: "list-changed", version: "1.0.0" });
server.registerTool("add-tool", { description: "Registers the tool `added`" }, async () => {
  server.registerTool("added", { description: "Added at run time" }, async () => ({
    content: [{ type: "text", text: "I was added" }],
  }));
  return { content: [{ type: "text", text: "added" }] };
});
await server.connect(new StdioServerTransport());
