// Builds the dashboard into static files that crates/web/build.rs embeds in the stockd binary.
// The app is served under /app/; file names carry a content hash so the server can let browsers
// cache them for a year. No plugin: Vite's own transform handles TSX (tsconfig `jsx`).
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/app/',
  build: {
    outDir: process.env.STOCKD_UI_OUT_DIR || 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // Everything is embedded in the binary; one inlined asset would need a CSP exception.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
});
