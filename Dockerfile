# Jardam: the Telegram bot.
#   docker build -t jardam .
#   docker run -d --name jardam -e TELEGRAM_BOT_TOKEN=... -e OPERATOR_CHAT_ID=... -v jardam-data:/data jardam
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    JARDAM_DB=/data/jardam.db \
    JARDAM_FAQ_DIR=/app/faq \
    JARDAM_LOCALES_DIR=/app/locales

RUN useradd --create-home --uid 10001 jardam \
    && mkdir -p /data && chown jardam:jardam /data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install .
COPY faq ./faq
COPY locales ./locales

USER jardam
VOLUME ["/data"]
CMD ["jardam", "run"]
