// Starts fox-wamp (npm, a Node WAMP router) for tests/interop/foxwamp_test.ts:
// WebSocket + JSON only (fox-wamp speaks wamp.2.json and nothing else) on
// 127.0.0.1, on the port given as the first argument (0: any free port).
// Prints one line, {"port": N}, once listening, and exits when stdin closes,
// so the test controls its lifetime without signals.
//
// Run `npm ci --prefix tests/interop/fox --ignore-scripts` first: fox-wamp's
// WAMP router path loads neither sqlite3 nor any other native module.
import process from "node:process";

let FoxRouter;
try {
  FoxRouter = (await import("fox-wamp")).default;
} catch (error) {
  process.stderr.write(
    `Cannot start fox-wamp: ${error.message}\n` +
      "Install it with: npm ci --prefix tests/interop/fox --ignore-scripts\n",
  );
  process.exit(2);
}

const port = Number(process.argv[2] ?? "0");
const router = new FoxRouter();
const server = router.listenWAMP({ host: "127.0.0.1", port });
server.on("listening", () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + "\n");
});
server.on("error", (error) => {
  process.stderr.write(`Cannot start fox-wamp: ${error.message}\n`);
  process.exit(1);
});
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
