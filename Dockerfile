# Churn server image. Build:  docker build -t churn .   Run one node:  docker run -p 127.0.0.1:8080:8080 -v churn-data:/data churn
# Several replicas, PostgreSQL, Redis, nginx and Prometheus: deploy/docker-compose.yml. Operations: docs/operations.md.

# The base images. Without a registry, make local ones with deploy/local-base.sh and pass them with --build-arg
# (docs/operations.md, "Without a registry").
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0

# ---- build: the .NET SDK restores and publishes; nothing of this stage reaches the final image but /app.
FROM ${SDK_IMAGE} AS build
# LightGBM ships its native library for linux-x64 only, so the image is built for that runtime.
ARG RID=linux-x64
WORKDIR /src
# Project files first: the restore layer is then reused until a project or package version changes.
# global.json is left out on purpose: the SDK is chosen by the image tag above, not by the developer pin.
COPY Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/Churn.Core/Churn.Core.csproj src/Churn.Core/
COPY src/Churn.Data/Churn.Data.csproj src/Churn.Data/
COPY src/Churn.Server/Churn.Server.csproj src/Churn.Server/
COPY src/Churn.Cli/Churn.Cli.csproj src/Churn.Cli/
RUN dotnet restore src/Churn.Cli/Churn.Cli.csproj -r "$RID" -p:PublishReadyToRun=true
COPY src/ src/
# The server and the churn command go into one folder: they share every library, and operators need the command
# inside the container for backups, keys and rollbacks (docker compose exec churn-1 churn backup ...).
# Both are precompiled (ReadyToRun, see the project files); publishing restores again with its own properties, which
# finds the packages of the layer above and fetches only the runtime packs the precompiler needs.
RUN dotnet publish src/Churn.Server/Churn.Server.csproj -c Release -r "$RID" --self-contained false -o /app \
    && dotnet publish src/Churn.Cli/Churn.Cli.csproj -c Release -r "$RID" --self-contained false -o /app \
    && find /app -name '*.dbg' -delete

# ---- runtime: the ASP.NET Core runtime (Ubuntu 24.04 in the official image) and the published output only.
FROM ${RUNTIME_IMAGE} AS runtime
# lib_lightgbm.so links against libgomp.so.1 (GNU OpenMP), which the runtime image does not carry.
# curl is the health probe: the image has no HTTP client, and a probe that starts a second .NET process
# every few seconds would cost more memory than the whole of curl.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 curl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app ./
# The data directory belongs to the image's non-root user "app" (uid 1654), so a fresh named volume does too.
# Both the server and the command start through the published launcher, which sets the runtime's environment-only
# settings (src/Churn.Server/launch.sh says which and why).
RUN printf '#!/bin/sh\nexec /app/launch.sh dotnet /app/churn.dll "$@"\n' > /usr/local/bin/churn \
    && chmod 0755 /usr/local/bin/churn \
    && mkdir -p /data \
    && chown app:app /data
# The server binds 127.0.0.1:5080 unless told otherwise; in a container it must listen on every interface.
# HTTP_PORTS is cleared so ASP.NET does not warn that URLS overrides it.
ENV ASPNETCORE_URLS=http://+:8080 \
    ASPNETCORE_HTTP_PORTS= \
    Churn__DataDir=/data \
    CHURN_DATA_DIR=/data \
    DOTNET_CLI_TELEMETRY_OPTOUT=1
VOLUME ["/data"]
EXPOSE 8080
USER app
# Readiness, not liveness: GET /health answers 200 only once a warmed-up champion is loaded and the store answers
# (503 "starting" or "degraded" otherwise). A first start on an empty store trains a model before it listens,
# hence the long start period. A container on the host's network that listens elsewhere (ASPNETCORE_URLS) names its
# health URL in CHURN_HEALTH_URL.
HEALTHCHECK --interval=15s --timeout=5s --start-period=300s --retries=3 \
    CMD curl --fail --silent --show-error --output /dev/null --max-time 4 "${CHURN_HEALTH_URL:-http://127.0.0.1:8080/health}" || exit 1
ENTRYPOINT ["/app/launch.sh", "dotnet", "/app/Churn.Server.dll"]
