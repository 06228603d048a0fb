using System.Text.Json.Nodes;
using Backtesting.Api.Backtests;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Backtesting.Api.OpenApi;

/// <summary>Swashbuckle at /swagger: every route with its examples, its error answers and the bearer key scheme.</summary>
public static class OpenApiSetup
{
    public static void AddBacktestingOpenApi(this IServiceCollection services)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(options =>
        {
            options.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "Backtesting API",
                Version = "v1",
                Description = "Start, watch and analyse backtests on the cluster. Every route takes an API key: 'Authorization: Bearer <key>'. " +
                              "Real-time: SignalR hub /hubs/backtests (Subscribe/Unsubscribe, client method 'message') and WebSockets " +
                              "/ws/backtest/{id}/progress, /ws/backtest/{id}/results and /ws/backtest (the seed's subscribe protocol); " +
                              "browsers pass the key as ?access_token=<key> there. See docs/api.md.",
            });
            options.AddSecurityDefinition("Bearer", new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "An API key (./run.sh prints the local admin key; admins create more with POST /api/v1/keys).",
            });
            options.AddSecurityRequirement(document => new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("Bearer", document)] = [] });
            options.OperationFilter<ExampleFilter>();
        });
    }

    /// <summary>Puts the <see cref="ApiExample"/>s an endpoint carries into its request body and responses.</summary>
    private sealed class ExampleFilter : IOperationFilter
    {
        public void Apply(OpenApiOperation operation, OperationFilterContext context)
        {
            foreach (var example in context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<ApiExample>())
            {
                var node = JsonNode.Parse(example.Json);
                if (example.IsRequest)
                {
                    if (operation.RequestBody?.Content is { } requestContent)
                    {
                        foreach (var media in requestContent.Values)
                        {
                            media.Example = node;
                        }
                    }

                    continue;
                }

                var key = example.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture);
                operation.Responses ??= new OpenApiResponses();
                if (!operation.Responses.TryGetValue(key, out var response))
                {
                    response = new OpenApiResponse { Description = key };
                    operation.Responses[key] = response;
                }

                if (response is OpenApiResponse concrete)
                {
                    concrete.Content ??= new Dictionary<string, OpenApiMediaType>();
                    var contentType = example.StatusCode >= 400 ? "application/problem+json" : "application/json";
                    if (!concrete.Content.TryGetValue(contentType, out var media))
                    {
                        media = new OpenApiMediaType();
                        concrete.Content[contentType] = media;
                    }

                    media.Example = node;
                }
            }
        }
    }
}
