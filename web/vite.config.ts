import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';
import { mockServer } from './mock/server.ts';

// The built app goes into the Python package: `kilo serve` serves it at /.
// `npm run dev` answers /v1 from the small mock under mock/ (never built, never shipped),
// or proxies to a real server when KILO_API is set (e.g. KILO_API=http://127.0.0.1:8000).
const api = process.env.KILO_API;

export default defineConfig({
  plugins: [svelte(), ...(api ? [] : [mockServer()])],
  base: '/',
  build: {
    outDir: fileURLToPath(new URL('../server/kilo_server/webapp', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: true,
  },
  server: api ? { proxy: { '/v1': { target: api, changeOrigin: false } } } : {},
});
