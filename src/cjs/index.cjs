'use strict';
/**
 * `require('sluice')` from CommonJS. Sluice is an ES module; Node.js loads it with require() (require(esm),
 * on by default since 20.19 and 22.12), so CommonJS and ESM callers share one copy of the module. On a
 * Node.js without it, say which versions work instead of the bare ERR_REQUIRE_ESM.
 */
try {
  module.exports = require('../index.js');
} catch (error) {
  if (error && (error.code === 'ERR_REQUIRE_ESM' || error.code === 'ERR_REQUIRE_ASYNC_MODULE')) {
    throw new Error(
      `require('sluice') needs a Node.js that can require() ES modules: 22.12 or later, without ` +
        `--no-experimental-require-module (this is ${process.version}). sluice supports Node.js 22 and 24; ` +
        "upgrade, or load it with `await import('sluice')`.",
      { cause: error },
    );
  }
  throw error;
}
