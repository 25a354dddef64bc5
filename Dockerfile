# The course in a container: JupyterLab on lesson 1, the data baked in.
#
#   docker compose up lab      (see README.md, "Three ways to start")
#
# Python packages are pinned in pyproject.toml only: this file installs `.`.
#
# Behind a proxy that intercepts TLS (pip: CERTIFICATE_VERIFY_FAILED), hand pip
# the CA bundle that trusts it, as the PIP_CERT build argument; with podman:
#   podman build --format docker -t fmnist-course:latest \
#     --volume /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/host-ca.crt:ro \
#     --build-arg PIP_CERT=/etc/ssl/certs/host-ca.crt .

# --- build: a virtual environment with the course and its pinned dependencies
FROM docker.io/library/debian:bookworm-slim AS build

# Debian's stable suite is the pin for system packages (bookworm: Python 3.11).
# hadolint ignore=DL3008
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 python3-venv \
 && rm -rf /var/lib/apt/lists/*

RUN python3 -m venv /opt/venv
WORKDIR /src
# pip reads PIP_CERT (a CA bundle) from the environment; a build argument is
# one for the RUN steps below, and is unset when not given.
ARG PIP_CERT
# The dependencies first, in a layer that changes only with pyproject.toml:
# install the course from a stub of its package, then the real one on top,
# without dependencies; editing fmnist_utils then rebuilds in seconds.
COPY pyproject.toml ./
RUN mkdir fmnist_utils && touch README.md fmnist_utils/__init__.py \
 && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check . \
 && rm -rf fmnist_utils README.md build ./*.egg-info
COPY README.md LICENSE ./
COPY fmnist_utils ./fmnist_utils
RUN /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check --no-deps --force-reinstall . \
 && /opt/venv/bin/pip check

# The student copies of the lessons (none yet in a checkout without lessons/).
COPY . /tmp/context
RUN mkdir -p /opt/course \
 && if [ -d /tmp/context/lessons ]; then cp -R /tmp/context/lessons /opt/course/; fi

# --- the image: Python, the data, the environment; no compiler, no pip cache
FROM docker.io/library/debian:bookworm-slim

# python3: the venv's interpreter; dataset-fashion-mnist: the real data in
# /usr/share/datasets/fashion-mnist (no download at run time); tini: PID 1.
# hadolint ignore=DL3008
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 dataset-fashion-mnist tini \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
 && useradd --create-home --uid 1000 --user-group --shell /bin/bash learner

COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/course /opt/course
COPY docker/jupyter_server_config.py /opt/venv/etc/jupyter/jupyter_server_config.py
COPY docker/start-lab /usr/local/bin/start-lab

ENV PATH=/opt/venv/bin:$PATH \
    TF_CPP_MIN_LOG_LEVEL=2 \
    PYTHONUNBUFFERED=1

USER 1000:1000
WORKDIR /home/learner/work
EXPOSE 8888

# /api answers without a token and does not count as activity.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import urllib.request as r; r.urlopen('http://127.0.0.1:8888/api', timeout=4)"]

ENTRYPOINT ["/usr/bin/tini", "--"]
# JupyterLab on the learner's work area, token required (JUPYTER_TOKEN, or
# generated and printed in the log).
CMD ["start-lab"]
