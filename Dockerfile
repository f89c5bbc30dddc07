# dib-pypi serve as a container: a static mirror, a pull-through cache or an upload index on
# port 8080, the mirror on the volume /srv/pypi, run as the unprivileged user dib-pypi.
#
#   docker build -t dib-pypi .
#   docker run -d -v pypi:/srv/pypi -p 8080:8080 dib-pypi
#   docker run -d -v pypi:/srv/pypi -p 8080:8080 -e DIB_PYPI_SERVE_UPSTREAM=https://pypi.org/simple/ dib-pypi
#
# Settings come from DIB_PYPI_SERVE_* variables (one per flag of `dib-pypi serve`), a TOML file
# (-v ./serve.toml:/etc/dib-pypi/serve.toml:ro -e DIB_PYPI_SERVE_CONFIG=/etc/dib-pypi/serve.toml)
# or flags after the image name (`dib-pypi serve --help`).
#
# The build stage packs the checkout (npm ci needs the npm registry) unless the context already
# holds a packed dib-pypi-*.tgz (`npm pack`), which is then installed as it is: that build needs
# no network at all (`docker build --network none`). The package has no runtime dependencies.
ARG BASE=node:20-slim

FROM ${BASE} AS build
WORKDIR /build
COPY . .
RUN set -eu; \
    if ! ls dib-pypi-*.tgz >/dev/null 2>&1; then \
      npm ci --no-audit --no-fund && npm pack --silent; \
    fi; \
    set -- dib-pypi-*.tgz; \
    if [ "$#" -ne 1 ]; then echo "expected one dib-pypi-*.tgz in the build context, found: $*" >&2; exit 1; fi; \
    npm install --global --prefix /opt/dib-pypi --offline --no-audit --no-fund --no-update-notifier "./$1"

FROM ${BASE}
COPY --from=build /opt/dib-pypi /opt/dib-pypi
# A fixed uid/gid so that a volume's ownership means the same in every container of this image.
RUN groupadd --system --gid 10001 dib-pypi \
 && useradd --system --uid 10001 --gid dib-pypi --home-dir /srv/pypi --no-create-home --shell /usr/sbin/nologin dib-pypi \
 && mkdir -p /srv/pypi \
 && chown dib-pypi:dib-pypi /srv/pypi \
 && chmod 0750 /srv/pypi
ENV PATH=/opt/dib-pypi/bin:$PATH \
    NODE_ENV=production \
    DIB_PYPI_SERVE_DIR=/srv/pypi \
    DIB_PYPI_SERVE_HOST=0.0.0.0 \
    DIB_PYPI_SERVE_PORT=8080
USER dib-pypi:dib-pypi
WORKDIR /srv/pypi
VOLUME ["/srv/pypi"]
EXPOSE 8080
# /health on the address and port the server listens on (a wildcard address is asked on loopback).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const e = process.env, h = e.DIB_PYPI_SERVE_HOST || '127.0.0.1', host = h === '0.0.0.0' || h === '::' ? '127.0.0.1' : h.includes(':') ? `[${h}]` : h; fetch(`http://${host}:${e.DIB_PYPI_SERVE_PORT || 8080}/health`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["dib-pypi"]
CMD ["serve"]
