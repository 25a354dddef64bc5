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

FROM docker.io/library/debian:bookworm-slim

# python3 (bookworm: 3.11) and its venv module; dataset-fashion-mnist: the real
# data in /usr/share/datasets/fashion-mnist (no download at run time); tini as
# PID 1. No compiler: every dependency installs from a wheel. Debian's stable
# suite is the pin for system packages.
# hadolint ignore=DL3008
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 python3-venv dataset-fashion-mnist tini \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
 && useradd --create-home --uid 1000 --user-group --shell /bin/bash learner \
 && python3 -m venv /opt/venv

# pip reads PIP_CERT (a CA bundle) from the environment; a build argument is
# one for the RUN steps below, and is unset when not given.
ARG PIP_CERT
WORKDIR /tmp/build
# The dependencies first, in a layer that changes only with pyproject.toml:
# install the course from a stub of its package (the real one follows, without
# dependencies), so that editing the course rebuilds in seconds. No pip cache.
# The `hub` extra (JupyterHub's single-user server) lets Zero to JupyterHub run
# this image for every learner (hub/k8s/values.yaml).
COPY pyproject.toml ./
RUN mkdir -p fmnist_utils/kernel_config fmnist_utils/jupyter_config \
 && touch README.md fmnist_utils/__init__.py fmnist_utils/kernel_config/ipython_kernel_config.py \
 && echo '{}' > fmnist_utils/jupyter_config/fmnist_course.json \
 && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check ".[hub]" \
 && rm -rf /tmp/build/*

# The course: its helpers, the student copies of the lessons (.dockerignore
# lets in nothing else), the server settings and the start command.
COPY . ./
RUN /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check --no-deps --force-reinstall . \
 && /opt/venv/bin/pip check \
 && mkdir -p /opt/course \
 && if [ -d lessons ]; then cp -R lessons /opt/course/; fi \
 && install -D -m 0644 docker/jupyter_server_config.py /opt/venv/etc/jupyter/jupyter_server_config.py \
 && install -m 0755 docker/start-lab /usr/local/bin/start-lab \
 && rm -rf /tmp/build

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
