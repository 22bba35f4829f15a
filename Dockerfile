# nngrade's image: the API (`nngrade serve`) or a grading worker (`nngrade worker`), with the sandbox's tools.
FROM python:3.11-slim-bookworm

RUN apt-get update \
 && apt-get install -y --no-install-recommends bubblewrap libseccomp2 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 nngrade

WORKDIR /app
COPY pyproject.toml README.md ./
COPY nngrade ./nngrade
COPY service ./service
COPY graders ./graders
COPY exercises ./exercises
COPY reference ./reference
# An editable install keeps reference/ importable for the server's hidden cases
# (the students' wheel leaves it out).
RUN pip install --no-cache-dir -e '.[postgres,celery]'

# The service never runs as root; sandboxes run as this user, inside their own namespaces
# (the worker container needs user namespaces: see docker-compose.yml and docs/deployment.md).
USER nngrade
ENV NNGRADE_DATA_DIR=/data NNGRADE_HOST=0.0.0.0 NNGRADE_PORT=8000
EXPOSE 8000
CMD ["nngrade", "serve"]
