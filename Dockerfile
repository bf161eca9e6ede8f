# monitor: one polling round of config/feeds.toml into /app/data/monitor.db.
# Build: docker build -t monitor .   Run: docker run --rm -v monitor-data:/app/data -v ./digests:/app/digests monitor
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install . && useradd --system --uid 10001 --home-dir /app monitor
COPY config ./config
RUN mkdir -p data digests && chown -R monitor:monitor /app/data /app/digests

USER monitor
VOLUME ["/app/data", "/app/digests"]
ENV MONITOR_CONFIG=/app/config/feeds.toml \
    MONITOR_DB=/app/data/monitor.db

ENTRYPOINT ["monitor"]
CMD ["poll"]
