# The backtest worker's image: one backtest per container, run by the silo's Docker runner.
# The build context is prepared by scripts/docker.sh (build_worker_image):
#   app/     a self-contained linux-x64 publish of Worker/ (the .NET runtime included)
#   rootfs/  for a FROM scratch build: the shared libraries ldd lists for it, /etc/passwd and /etc/group
#            with the non-root user 10001; empty for a base image that brings its own
# BASE_IMAGE: scratch builds offline from local files only; with internet, a Microsoft runtime-deps image
# (the default here) provides the same libraries.
ARG BASE_IMAGE=mcr.microsoft.com/dotnet/runtime-deps:10.0
FROM ${BASE_IMAGE}
ARG ROOTFS=rootfs
COPY ${ROOTFS}/ /
COPY app/ /app/
# No ICU in the image: the worker is built with InvariantGlobalization (its output is culture-invariant
# anyway). No ENV either: the runner sets a container's whole environment (Grains/Runners/DockerSandbox.cs), and
# the worker is told where everything is by its arguments. Market data is mounted at /data, the run's folder at
# /output.
USER 10001:10001
WORKDIR /tmp
ENTRYPOINT ["/app/Backtesting.Worker"]
