# payledger's container image: docs/deploy.md. Build from the repository root:
#   docker build -t payledger .
# Both stages use the same base so that the venv's interpreter link stays valid.
ARG PYTHON_IMAGE=python:3.12-slim-bookworm

# Builder: builds payledger's wheel and installs it with its dependencies into /opt/payledger.
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /build
RUN python -m venv /opt/payledger
COPY pyproject.toml README.md ./
COPY src ./src
RUN /opt/payledger/bin/pip wheel --no-deps --wheel-dir /build/dist . \
    && /opt/payledger/bin/pip install "$(ls /build/dist/payledger-*.whl)[postgres]" \
    && /opt/payledger/bin/pip uninstall --yes pip

# Final: the venv on a slim base, no compiler, no pip, run as an unprivileged user.
FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 payledger \
    && useradd --system --uid 10001 --gid payledger --no-create-home \
       --home-dir /var/lib/payledger --shell /usr/sbin/nologin payledger \
    && install --directory --owner=payledger --group=payledger --mode=0700 /var/lib/payledger
COPY --from=builder /opt/payledger /opt/payledger
ENV PATH=/opt/payledger/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PAYLEDGER_SERVICE__HOST=0.0.0.0 \
    PAYLEDGER_SERVICE__PORT=8800
# Relative paths of the configuration (var/payledger.db, var/master.key) land here.
WORKDIR /var/lib/payledger
USER payledger:payledger
EXPOSE 8800
# Only serve answers HTTP: compose turns the check off for migrate and the workers.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PAYLEDGER_SERVICE__PORT', '8800'), timeout=4)"]
ENTRYPOINT ["payledger"]
CMD ["serve"]
