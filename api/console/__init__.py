"""The operator console: a single-page app of vanilla ES modules, served by the API app itself.

No build step, no CDN: the shell (`static/app.js`, its `shell/` modules and the generic pages in
`static/pages/`), the vendored Leaflet and uPlot (`static/vendor/`, with their licences) and each
kind's pages (`kinds/<kind>/console/pages.js`) ship in the package, so a field office or a demo
laptop without internet has the whole console. The contract between the shell and the pages
(routes, `ctx`, roles) is in `static/README.md`; the basemap's land in `basemap/README.md`.
"""

from api.console.serving import mount_console

__all__ = ["mount_console"]
