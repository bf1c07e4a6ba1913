# reclaimlab server image: the Cython engine is built by `pip install .`;
# the [dask] extra lets the same image run Dask sweep workers (docker-compose.yml).
FROM python:3.11-slim

RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY . /app
RUN pip install --no-cache-dir .[dask]

ENV RECLAIMLAB_DATA=/data
VOLUME ["/data"]
EXPOSE 8000

CMD ["reclaimlab", "serve", "--host", "0.0.0.0", "--port", "8000", "--data", "/data"]
