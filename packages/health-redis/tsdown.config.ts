import { defineConfig } from 'tsdown'

export default defineConfig({
  entry: ['src/index.ts'],
  format: 'esm',
  platform: 'node',
  dts: true,
  fixedExtension: false,
  tsconfig: 'tsconfig.build.json',
  clean: true,
  failOnWarn: true,
})
