# kube-webshell: front-end libraries from `npm ci`, then a slim Python runtime with
# requirements.txt only (no Go, compilers, test or benchmark packages).
#
#   podman build --build-arg BASE_IMAGE=debian:bookworm-slim -t kube-webshell .
#
# The root filesystem may be read-only: the console writes only to /var/lib/kube-webshell
# (secret key, SQLite database, recordings) and /tmp (multipart spool); mount both as volumes.
#
# CA_BUNDLE: a CA bundle inside the build (mounted with `podman build -v`, never copied into
# the image) for builds behind a TLS-inspecting proxy; npm and pip trust it.
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${BASE_IMAGE} AS assets
ARG CA_BUNDLE=
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
RUN env ${CA_BUNDLE:+NODE_EXTRA_CA_CERTS=$CA_BUNDLE} npm ci --omit=dev --no-audit --no-fund --loglevel=error

FROM ${BASE_IMAGE} AS python
ARG CA_BUNDLE=
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3 python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY requirements.txt /tmp/requirements.txt
RUN python3 -m venv /opt/venv \
 && env ${CA_BUNDLE:+PIP_CERT=$CA_BUNDLE} /opt/venv/bin/pip install -q --no-cache-dir --only-binary=:all: -r /tmp/requirements.txt \
 && /opt/venv/bin/pip uninstall -q -y pip setuptools \
 && find /opt/venv -name '__pycache__' -prune -exec rm -rf {} + \
 && /opt/venv/bin/python -m compileall -q /opt/venv/lib

FROM ${BASE_IMAGE}
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3 ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/kube-webshell --no-create-home kws \
 && mkdir -p /var/lib/kube-webshell && chown kws:kws /var/lib/kube-webshell
COPY --from=python /opt/venv /opt/venv
# The whole tree (18 MB): webshell/vendor.py serves only the files it lists from it.
COPY --from=assets /src/node_modules /app/node_modules
COPY app.py pyproject.toml LICENSE /app/
COPY webshell /app/webshell
COPY migrations /app/migrations
COPY templates /app/templates
COPY static /app/static
RUN /opt/venv/bin/python -m compileall -q /app/webshell /app/migrations /app/app.py
WORKDIR /app
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    KWS_HOST=0.0.0.0 \
    KWS_PORT=8080 \
    KWS_INSTANCE_DIR=/var/lib/kube-webshell
USER 10001:10001
EXPOSE 8080
VOLUME ["/var/lib/kube-webshell"]
# The console's SIGTERM handler closes every terminal and hangs up its shell, then exits.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/opt/venv/bin/python", "/app/app.py"]
