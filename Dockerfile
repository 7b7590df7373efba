# The shop's one image: every role is chosen by the command (README, "Deployment"):
#   snipshop serve edge|admin --host 0.0.0.0 --port P, snipshop worker, snipshop scheduler,
#   snipshop db upgrade, snipshop import FILE..., projector rebuild, projector status.
# Where no registry is reachable, `python -m tools.images base` makes the base image locally
# (debootstrap); elsewhere it is pulled.
ARG BASE_IMAGE=debian:bookworm-slim

# --- build: a virtual environment with the dependencies, then the project -----------------------
FROM ${BASE_IMAGE} AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# A site's own certificate authorities (PEM), for a network that inspects TLS on the way to the
# package index; tools/images.py passes the build host's (/usr/local/share/ca-certificates).
# They stay in this stage.
ARG LOCAL_CA_CERTS=""
# Package versions come with the base's Debian release (and its security updates), not pins.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && if [ -n "$LOCAL_CA_CERTS" ]; then \
      printf '%s\n' "$LOCAL_CA_CERTS" > /usr/local/share/ca-certificates/local.crt && update-ca-certificates; \
    fi
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    PATH=/opt/snipshop/bin:$PATH
WORKDIR /src
# The manifest and the constraints before the code: a change to the code reuses this layer.
COPY pyproject.toml constraints.txt ./
RUN python3 -m venv /opt/snipshop \
 && python3 -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' \
      > requirements.txt \
 && pip install --no-cache-dir -c constraints.txt -r requirements.txt "setuptools>=68" \
 && pip check
COPY vocab vocab
COPY snipshop snipshop
COPY catalog catalog
COPY search search
COPY projector projector
COPY web web
COPY entrypoints entrypoints
# Then nothing to install with is left in the environment the runtime stage takes.
RUN pip install --no-cache-dir --no-deps --no-build-isolation . \
 && pip uninstall --yes setuptools \
 && python3 -m pip uninstall --yes pip

# --- runtime: Python and the virtual environment, nothing to build or install with --------------
FROM ${BASE_IMAGE} AS runtime
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/snipshop --create-home snipshop
COPY --from=build /opt/snipshop /opt/snipshop
ARG REVISION=unknown
LABEL org.opencontainers.image.title="snipshop" \
      org.opencontainers.image.description="A CQRS shop backend that serves pages from pre-rendered snippets" \
      org.opencontainers.image.revision="${REVISION}"
ENV PATH=/opt/snipshop/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SNIPSHOP_REVISION=${REVISION} \
    SNIPSHOP_STATE_DIR=/var/lib/snipshop
USER 10001:10001
WORKDIR /var/lib/snipshop
# One check for every role: `snipshop health` finds the role in the main process's command line.
HEALTHCHECK --interval=10s --timeout=10s --start-period=30s --retries=3 CMD ["snipshop", "health"]
CMD ["snipshop", "--help"]
