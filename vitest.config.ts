import { defineConfig } from "vitest/config"
// vitest 5 reports failures with Node 21+ APIs; the project runs on Node 20.
import "./scripts/node20-polyfill.mjs"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000
  }
})
