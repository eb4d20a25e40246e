// The operator console is a static bundle: `vite build console` writes console/dist, which the
// ReTrack node serves at / (src/api/plugins/console.ts). Everything the page needs (Leaflet, the
// world basemap) is bundled: the console makes no request to any other host.
import { defineConfig } from 'vite'

// `npm run dev:console` serves the sources with hot reload and forwards the API to a running node.
const apiTarget = 'http://127.0.0.1:8080'

export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // the basemap is a ~750 kB TopoJSON asset fetched at run time, not part of the script
    assetsInlineLimit: 4096,
  },
  server: {
    proxy: { '/api': { target: apiTarget, changeOrigin: false } },
  },
})
