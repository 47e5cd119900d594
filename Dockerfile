# signoff as a container: `signoff run` on Socket Mode. Slack needs no inbound port (the
# bot dials out); 9464 serves /healthz, /readyz and /metrics to the operator.
#
#   docker build -t signoff .
#   docker run -d --init --name signoff -e SLACK_BOT_TOKEN -e SLACK_APP_TOKEN \
#     -v signoff-data:/data -p 127.0.0.1:9464:9464 --stop-timeout 30 signoff
#
# Everything signoff keeps lives in /data (SIGNOFF_HOME): back that volume up.
# docs/operations.md: deploying, backups, upgrades, the kill switch, alerts.

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY agent_core ./agent_core
COPY approvals ./approvals
COPY bot ./bot
COPY localslack ./localslack
COPY sessions ./sessions
RUN python -m venv /opt/signoff \
 && /opt/signoff/bin/pip install --upgrade pip \
 && /opt/signoff/bin/pip install .

FROM python:3.11-slim
ENV PATH=/opt/signoff/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SIGNOFF_HOME=/data \
    SIGNOFF_HTTP=0.0.0.0:9464 \
    SIGNOFF_LOG_FORMAT=json
RUN groupadd --system --gid 10001 signoff \
 && useradd --system --uid 10001 --gid signoff --home-dir /data --no-create-home signoff \
 && mkdir /data && chown signoff:signoff /data
COPY --from=build /opt/signoff /opt/signoff
USER signoff:signoff
WORKDIR /data
VOLUME ["/data"]
EXPOSE 9464
# Liveness only: /readyz is for alerts and dashboards (a Socket Mode bot takes no traffic
# that a load balancer would route). It probes where SIGNOFF_HTTP says (a wildcard address
# on loopback; empty, signoff's default), with no proxy; with SIGNOFF_HTTP=off there is
# nothing to probe: healthy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request as u; \
b = os.environ.get('SIGNOFF_HTTP', '').strip() or '127.0.0.1:9464'; h, _, p = b.rpartition(':'); \
h = h.strip('[]'); h = {'0.0.0.0': '127.0.0.1', '::': '::1'}.get(h, h); \
b.lower() == 'off' or u.build_opener(u.ProxyHandler({})).open( \
'http://' + (f'[{h}]' if ':' in h else h) + f':{p}/healthz', timeout=4)"]
# SIGTERM drains: no new work, the link closed, running turns get SIGNOFF_DRAIN_S (20 s).
# Give the container longer than that to stop (docker's default is 10 s).
STOPSIGNAL SIGTERM
CMD ["signoff", "run"]
