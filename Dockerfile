# mockbay in a container: `docker build -t mockbay . && docker run -p 8080:8080 mockbay`
# Mount your own scenarios at /scenarios: `docker run -v $PWD/scenarios:/scenarios -p 8080:8080 mockbay`
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    MOCKBAY_SCENARIOS=/scenarios

WORKDIR /app
COPY pyproject.toml README.md ./
COPY mockbay ./mockbay
COPY scenarios /scenarios
RUN rm -f mockbay/bundled && pip install ".[redis]" \
    && useradd --create-home --uid 10001 mockbay

USER mockbay
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/_mockbay/health', timeout=2).status == 200 else 1)"

ENTRYPOINT ["mockbay", "serve", "--host", "0.0.0.0", "--port", "8080"]
