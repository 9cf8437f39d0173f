// Fails fast, with a clear message, when the Node.js running the npm scripts is too old for
// @kubernetes/client-node 2.x (it needs >= 22.19). npm scripts put node_modules/.bin first on PATH, so the
// project's own Node 24 (the `node` devDependency) is used after `npm ci`, whatever the machine has.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 19)) {
  console.error(
    `kubeskippy needs Node.js >= 22.19 but is running on ${process.version} (${process.execPath}).\n` +
      'Run `npm ci` first: it installs Node 24 into node_modules/.bin, which every npm script then uses.',
  );
  process.exit(1);
}
