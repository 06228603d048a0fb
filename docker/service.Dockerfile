# The silo and the API, built from source with the .NET SDK image (needs internet: images come from mcr.microsoft.com).
#   docker build -f docker/service.Dockerfile --build-arg PROJECT=Silo .
#   docker build -f docker/service.Dockerfile --build-arg PROJECT=Api .
# docker-compose.yml builds both. The worker has its own image (docker/worker.Dockerfile).
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0

FROM ${SDK_IMAGE} AS build
ARG PROJECT=Silo
WORKDIR /src
COPY . .
RUN dotnet publish "${PROJECT}/${PROJECT}.csproj" -c Release -o /out -p:GenerateDocumentationFile=false \
 && printf '#!/bin/sh\nexec dotnet /app/Backtesting.%s.dll "$@"\n' "${PROJECT}" > /out/start.sh && chmod +x /out/start.sh

FROM ${RUNTIME_IMAGE}
COPY --from=build /out /app
WORKDIR /app
ENTRYPOINT ["/app/start.sh"]
