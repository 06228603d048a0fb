using System.Net.Sockets;
using System.Text.Json;
using Backtesting.Grains.Interfaces;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Backtesting.Api.Hosting;

/// <summary>/health/ready: PostgreSQL answers, a silo answers, and the Docker daemon answers when the runner is docker.</summary>
public static class HealthChecks
{
    public const string Ready = "ready";

    public static void AddBacktestingHealthChecks(this IServiceCollection services) =>
        services.AddHealthChecks()
            .AddCheck<PostgresCheck>("postgres", tags: [Ready])
            .AddCheck<ClusterCheck>("cluster", tags: [Ready])
            .AddCheck<DockerCheck>("docker", tags: [Ready]);

    public static void MapBacktestingHealth(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", new() { Predicate = _ => false, ResponseWriter = Write }).WithTags("Health");
        app.MapHealthChecks("/health/ready", new() { Predicate = c => c.Tags.Contains(Ready), ResponseWriter = Write }).WithTags("Health");
    }

    private static Task Write(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString().ToLowerInvariant(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new
            {
                status = e.Value.Status.ToString().ToLowerInvariant(),
                description = e.Value.Description,
                durationMs = Math.Round(e.Value.Duration.TotalMilliseconds, 1),
            }),
        }));
    }

    private sealed class PostgresCheck(NpgsqlDataSource dataSource) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await using var command = dataSource.CreateCommand("SELECT 1");
                await command.ExecuteScalarAsync(cancellationToken);
                return HealthCheckResult.Healthy("PostgreSQL answers");
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or SocketException)
            {
                return HealthCheckResult.Unhealthy("PostgreSQL does not answer: " + e.Message);
            }
        }
    }

    private sealed class ClusterCheck(IClusterClient client) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                var status = await client.GetGrain<IClusterStatusGrain>(0).GetStatus().WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
                return status.Silos.Count > 0
                    ? HealthCheckResult.Healthy($"{status.Silos.Count} silo(s), {status.Running} running, {status.Queued} queued")
                    : HealthCheckResult.Unhealthy("no active silo");
            }
            catch (Exception e) when (e is not OutOfMemoryException and not OperationCanceledException || e is TimeoutException)
            {
                return HealthCheckResult.Unhealthy("the cluster does not answer: " + e.Message);
            }
        }
    }

    /// <summary>Only when the silos run backtests in Docker (Backtesting:Runner = docker): the daemon must answer /_ping.</summary>
    private sealed class DockerCheck(IConfiguration configuration) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            if (!string.Equals(configuration["Backtesting:Runner"], "docker", StringComparison.OrdinalIgnoreCase))
            {
                return HealthCheckResult.Healthy("not used (the runner is not docker)");
            }

            // The daemon the silos use: Backtesting:Docker:Endpoint, else DOCKER_HOST, else the default socket.
            var host = configuration["Backtesting:Docker:Endpoint"] is { Length: > 0 } endpoint ? endpoint
                : Environment.GetEnvironmentVariable("DOCKER_HOST") is { Length: > 0 } fromEnvironment ? fromEnvironment
                : "unix:///var/run/docker.sock";
            try
            {
                using var http = host.StartsWith("unix://", StringComparison.Ordinal)
                    ? new HttpClient(new SocketsHttpHandler
                    {
                        ConnectCallback = async (_, token) =>
                        {
                            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                            await socket.ConnectAsync(new UnixDomainSocketEndPoint(host["unix://".Length..]), token);
                            return new NetworkStream(socket, ownsSocket: true);
                        },
                    }) { BaseAddress = new Uri("http://docker") }
                    : new HttpClient { BaseAddress = new Uri(host.Replace("tcp://", "http://", StringComparison.Ordinal)) };
                http.Timeout = TimeSpan.FromSeconds(3);
                var answer = await http.GetStringAsync("/_ping", cancellationToken);
                return answer.Trim() == "OK" ? HealthCheckResult.Healthy($"Docker answers at {host}") : HealthCheckResult.Unhealthy($"Docker at {host} said '{answer}'");
            }
            catch (Exception e) when (e is HttpRequestException or SocketException or TaskCanceledException or IOException)
            {
                return HealthCheckResult.Unhealthy($"Docker does not answer at {host}: {e.Message}");
            }
        }
    }
}
