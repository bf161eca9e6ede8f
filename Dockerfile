# monitor as a service: polls config/feeds.toml into /app/data/monitor.db, writes digests to /app/digests.
# Build: docker build -t monitor .   Run: docker run -d -v monitor-data:/app/data -v ./digests:/app/digests monitor
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# The licence file is part of the package's metadata, and the packaged starter config links to config/.
COPY pyproject.toml README.md LICENSE ./
COPY config ./config
COPY src ./src
RUN pip install . && useradd --system --uid 10001 --home-dir /app monitor
RUN mkdir -p data digests && chown -R monitor:monitor /app/data /app/digests

USER monitor
VOLUME ["/app/data", "/app/digests"]
ENV MONITOR_CONFIG=/app/config/feeds.toml \
    MONITOR_DB=/app/data/monitor.db

HEALTHCHECK --interval=5m --timeout=30s --start-period=2m CMD ["monitor", "status"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["monitor"]
CMD ["run"]
