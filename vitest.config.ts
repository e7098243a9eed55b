import { defineConfig } from "vitest/config"
// vitest 5 reports failures with Node 21+ APIs; the project runs on Node 20.
import "./scripts/node20-polyfill.mjs"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // One real redis-server for the Redis suites (skipped without it, unless REQUIRE_REDIS=1).
    globalSetup: ["./test/redis/globalSetup.ts"],
    testTimeout: 20_000
  }
})
